"""The risk check: its data, its rules, and its figures on the evaluation set."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.faq.matcher import build_documents, load_encoder
from bot.content import load_city
from bot.i18n import Catalogs
from bot.risk import CATEGORIES, RiskDetector, RiskPhrases, _after, ordinary_questions
from bot.risk_evaluation import evaluate

ROOT = Path(__file__).resolve().parent.parent
RISK_DIR = ROOT / "content" / "risk"
LANGUAGES = ("ja", "ja-easy", "en", "zh-Hans", "ko", "vi", "fil", "pt-BR", "es", "ne")


def ayase_ordinary_questions() -> list[str]:
    city = load_city(ROOT / "content" / "ayase")
    return ordinary_questions(city, build_documents(city, Catalogs(ROOT / "locales").translator))


@pytest.fixture(scope="module")
def phrases():
    return RiskPhrases.load(RISK_DIR)


@pytest.fixture(scope="module")
def detector(phrases, tmp_path_factory):
    """As the service builds it: the examples, and the city's FAQ questions as ordinary ones."""
    city_dir = ROOT / "content" / "ayase"
    encoder = load_encoder(city_dir / "index", tmp_path_factory.mktemp("cache"))
    ordinary = ayase_ordinary_questions()
    return RiskDetector(phrases, encoder, index_dir=RISK_DIR / "index", ordinary=ordinary,
                        ordinary_index_dir=city_dir / "index")


@pytest.fixture(scope="module")
def keywords_only(phrases):
    return RiskDetector(phrases)


def test_every_language_has_keywords_and_examples_for_every_category(phrases):
    for language in LANGUAGES:
        for category in (*CATEGORIES, "safe"):
            assert any(p.language == language and p.category == category for p in phrases.patterns), (language, category)
            assert sum(e.language == language and e.category == category for e in phrases.examples) >= 10, \
                (language, category)


def test_no_risk_keyword_fires_on_a_near_miss_example(phrases, keywords_only):
    fired = [(e.language, e.text, keywords_only.by_keyword(e.text)) for e in phrases.examples if e.category == "safe"]
    assert [f for f in fired if f[2] is not None] == []


def test_a_bad_pattern_is_reported_with_its_file(tmp_path):
    (tmp_path / "xx.toml").write_text("[abuse]\nkeywords = ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx.toml: \[abuse\] keyword"):
        RiskPhrases.load(tmp_path)
    (tmp_path / "xx.toml").write_text("[bogus]\nkeywords = []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown category"):
        RiskPhrases.load(tmp_path)


@pytest.mark.parametrize("text, category", [
    ("しにたい", "self_harm"),
    ("もう 死にたい", "self_harm"),
    ("こどもが いきしてない", "child_danger"),
    ("con toi khong tho", "child_danger"),
    ("Chồng tôi đánh tôi", "dv"),
    ("I'm scared I'm going to shake the baby", "harm_child"),
    ("con toi bi ngat, goi khong tinh", "child_danger"),
    ("bachha lai phyakna man lagchha kahile kahi", "harm_child"),
])
def test_keywords_catch_casual_spellings(keywords_only, text, category):
    risk = keywords_only.check(text)
    assert risk is not None and risk.category == category, (text, risk)


@pytest.mark.parametrize("text", ["虐待防止の講座はありますか", "死ぬほど眠い", "the heat is killing me",
                                  "予防接種のあと37.5度の熱", "ぎゃくたい ぼうし の こうざ は ありますか",
                                  "con toi bi ngat mui, co nen di kham khong",  # a stuffy nose
                                  "nani le khelauna phyakchha, kasari sikaune",  # the child throws toys
                                  "nani khelauna phyakchha, ke garne",
                                  "赤ちゃんの夜泣きがひどいです",
                                  "my husband never helps me with the kids", "our baby cries every night",
                                  "meu marido não me ajuda com nada",
                                  # everyday complaints, not the near-miss examples' words
                                  "my son refuses to eat dinner", "姑が育児に口出ししてきて疲れる",
                                  "子どもが全然ご飯を食べない", "o meu bebê não come nada", "con tôi hay ăn vạ",
                                  "ayaw makinig ng anak ko", "孩子总是发脾气"])
def test_ordinary_questions_with_risk_words_do_not_fire(detector, text):
    assert detector.check(text) is None


def test_a_risk_buried_after_an_ordinary_question_is_found(detector):
    risk = detector.check("児童手当の手続きについて聞きたかったんですが、正直もう疲れました。いなくなりたいです")
    assert risk is not None and risk.category == "self_harm"


def test_a_risk_at_the_end_of_one_long_sentence_is_found(detector):
    """No full stop to split at, and the risk lies past the start the FAQ embeds."""
    text = "保育園の申し込みの書類について聞きたかったんですが正直もう薬をためていて全部終わりにしようと思っています"
    assert detector.by_keyword(text) is None
    segments = detector.segments(text)
    assert len(segments) == 2 and segments[0] == detector.encoder.truncate(text)
    assert segments[0] + segments[1] == text
    risk = detector.check(text)
    assert risk is not None and risk.category == "self_harm"


@pytest.mark.parametrize("text, cut, rest", [
    ("my children are hungry", 6, "children are hungry"),   # not "ldren are hungry"
    ("my children are hungry", 3, "children are hungry"),
    ("保育園の書類", 3, "の書類"),  # no spaces between words: cut where the window ended
    ("short", 5, ""),
])
def test_what_follows_a_window_starts_at_a_word(text, cut, rest):
    assert _after(text, cut) == rest


def test_the_classifier_is_not_asked_about_a_plain_near_miss(detector):
    """It is linear: alone it would take this for domestic violence (it did, before the veto)."""
    text = "my husband never helps me with the kids"
    reading = max(detector.assess(text), key=lambda r: r.likelihood)
    assert reading.likelihood >= detector.thresholds.likely
    assert reading.ordinary - reading.similarity >= detector.thresholds.veto
    assert detector.check(text) is None


def test_evaluation_targets(detector):
    """make eval's figures: every risk message caught, false alarms ≤ 5%."""
    report = evaluate(detector, ROOT / "tests" / "eval" / "risk.tsv")
    assert report.total("risk") >= 100 and report.total("safe") >= 100
    assert len(report.per_language) == 10
    assert report.recall == 1.0, report.table()
    assert report.false_alarm_rate <= 0.05, report.table()


def test_unseen_sets_stay_caught(detector):
    """Sets written without seeing the data (thresholds were chosen on them, the examples were not):
    a change to the data or the rules must not lose what they catch."""
    for name in ("risk_fresh.tsv", "risk_unseen2.tsv"):
        report = evaluate(detector, ROOT / "tests" / "eval" / name)
        assert report.recall >= 0.9, (name, report.table())
        assert report.false_alarm_rate <= 0.1, (name, report.table())


def test_ordinary_questions_rarely_raise_an_alarm(detector):
    """The FAQ evaluation set's questions, none of them written as a risk (a few are about low mood
    after birth or a neighbour's child, where an alarm is right)."""
    from bot.faq.evaluation import load_cases

    cases = list(load_cases(ROOT / "tests" / "eval" / "faq.tsv"))
    alarms = [c.text for c in cases if detector.check(c.text) is not None]
    assert len(alarms) <= 0.1 * len(cases), alarms


def test_the_committed_risk_index_matches_the_examples(phrases, detector):
    name = detector.encoder.filename([e.text for e in phrases.examples], "risk")
    assert (RISK_DIR / "index" / name).exists(), "run `make i18n` (or python -m bot index) and commit the index"
    ordinary = ayase_ordinary_questions()
    assert len(ordinary) > 1000
    name = detector.encoder.filename(ordinary, "ordinary")
    assert (ROOT / "content" / "ayase" / "index" / name).exists(), \
        "run `make i18n` (or python -m bot index) and commit the index"


def test_match_command_shows_the_risk(tmp_path):
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "bot", "match", "もう しにたい"], cwd=ROOT, check=True,
                         capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "BOT_DATA_DIR": str(tmp_path),
                                                              "HF_HUB_OFFLINE": "1"}).stdout
    risk = json.loads(out)["risk"]
    assert risk["category"] == "self_harm" and risk["urgency"] == 0 and risk["via"] in ("keyword", "similar")


def test_a_risk_found_by_meaning_names_an_example_of_its_own_category(phrases, detector):
    """The evidence a content editor sees (python -m bot match) explains the category given."""
    from bot.faq.evaluation import load_cases

    category_of = {e.text: e.category for e in phrases.examples}
    found = [detector.by_meaning(" ".join(c.text.split())) for c in load_cases(ROOT / "tests" / "eval" / "risk.tsv")
             if c.expected != "none" and detector.by_keyword(" ".join(c.text.split())) is None]
    found = [r for r in found if r is not None]
    assert len(found) >= 10
    assert all(category_of[r.evidence] == r.category for r in found), [(r.category, r.evidence) for r in found]
