"""FAQ answers: the content pack, matching, the conversation, limits in every language."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import line_limits, render
from bot.content import ContentError, check, load_city
from bot.conversation import DialogServices, Retention
from bot.faq.evaluation import evaluate, load_cases
from bot.faq.matcher import build_matcher
from bot.faq.service import Answers
from bot.i18n import Catalogs
from dialogs import build_router
from dialogs.engine import Inbound, Postback, Session
from dialogs.faq import Found, answer_text
from dialogs.languages import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "content" / "ayase"
CODES = [language.code for language in LANGUAGES]
EVAL = ROOT / "tests" / "eval" / "faq.tsv"


@pytest.fixture(scope="module")
def catalogs():
    return Catalogs()


@pytest.fixture(scope="module")
def city():
    return load_city(PACK)


@pytest.fixture(scope="module")
def matcher(city, catalogs, tmp_path_factory):
    return build_matcher(city, catalogs.translator, index_dir=PACK / "index",
                         cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def services(city, catalogs, matcher):
    return DialogServices(catalogs, city, Retention(30, 30), Answers(matcher))


@pytest.fixture(scope="module")
def router():
    return build_router()


def ask(router, services, text, language="ja", state=""):
    session = Session("U1", language, consent=True, state=state)
    return router.route(Inbound("text", "U1", text=text), session, services)


def tap(router, services, data, language="ja"):
    session = Session("U1", language, consent=True)
    return router.route(Inbound("postback", "U1", postback=Postback.decode(data)), session, services)


def test_the_pack_is_consistent(city):
    assert len(city.faq) >= 35 and check(city) == []
    assert {e.category for e in city.faq} == {c.id for c in city.categories}


def test_a_broken_pack_is_refused_with_a_clear_message(tmp_path):
    (tmp_path / "city.toml").write_text((PACK / "city.toml").read_text())
    faq = (PACK / "faq.toml").read_text().replace('related = ["', 'related = ["no-such-entry", "', 1)
    (tmp_path / "faq.toml").write_text(faq)
    with pytest.raises(ContentError, match="no-such-entry"):
        load_city(tmp_path)


def test_the_committed_index_matches_the_content(matcher):
    """`python -m bot index` was run after the last change of content or translations."""
    texts = [d.text for d in matcher.documents]
    assert (PACK / "index" / matcher.encoder.filename(texts)).exists(), "run `make i18n` (or python -m bot index)"


def test_a_clear_question_is_answered_with_related_entries(router, services, city):
    turn = ask(router, services, "母子手帳はどこでもらえるの")
    [reply] = turn.replies
    entry = city.entry("maternal-handbook")
    assert entry.answer in reply.text
    labels = [a.label for a in reply.quick_replies]
    for related in entry.related:
        assert city.entry(related).label in labels


def test_an_unsure_match_offers_the_top_three_and_a_person(router, services, city):
    class Unsure:
        def find(self, text):
            return Found("choose", ("maternal-handbook", "pregnancy-notification", "prenatal-checkups"))

    unsure = DialogServices(services.catalogs, city, services.retention, Unsure())
    reply = ask(router, unsure, "手帳のこと").replies[-1]
    assert reply.text.startswith("お探しの答えはこの中にありますか？")
    for entry_id in ("maternal-handbook", "pregnancy-notification", "prenatal-checkups"):
        assert f"・{city.entry(entry_id).question}" in reply.text
    actions = [a.postback for a in reply.quick_replies]
    assert [a for a in actions if a.startswith("1|faq.show|")] == [
        Postback("faq.show", (i,)).encode()
        for i in ("maternal-handbook", "pregnancy-notification", "prenatal-checkups")]
    assert actions.count(Postback("person").encode()) == 1


def test_an_unrelated_question_is_answered_honestly(router, services):
    turn = ask(router, services, "駅前のおいしいラーメン屋を教えて")
    text = turn.replies[-1].text
    assert "見つかりませんでした" in text
    actions = [a.postback for a in turn.replies[-1].quick_replies]
    assert Postback("person").encode() in actions and Postback("faq.browse").encode() in actions
    assert turn.data["faq_misses"] == 1


@pytest.mark.parametrize("text, language, expected", [
    ("こんにちは", "ja", "子育てのことなら"),          # not the newborn visit (こんにちは赤ちゃん)
    ("こんにちは！", "ja-easy", "こそだて の ことを"),
    ("Hi there", "en", "Ask me anything"),
    ("xin chao", "vi", "Cảm ơn bạn đã nhắn tin"),
    ("はい、よろしくお願いします", "ja", "子育てのことなら"),
    ("ありがとうございました。", "ja", "どういたしまして"),
    ("Thank you!", "ja", "どういたしまして"),           # said in English, answered in the chosen language
    ("ok thank you", "en", "You're welcome"),           # made of small talk only: thanks wins
    ("감사합니다", "ko", "천만에요"),
    ("Muito obrigada", "pt-BR", "De nada"),
    ("了解です！", "ja", "メニューです"),                # "ok" needs no "you're welcome"
    ("네 알겠습니다", "ko", "메뉴입니다"),
])
def test_hello_thanks_and_ok_get_a_kind_word_and_the_menu(router, services, text, language, expected):
    turn = ask(router, services, text, language=language)
    [reply] = turn.replies
    assert expected in reply.text
    assert Postback("faq.browse").encode() in [a.postback for a in reply.quick_replies]
    assert "faq_misses" not in turn.data


@pytest.mark.parametrize("text, language, expected", [
    ("おやすみなさい", "ja", "またいつでもメッセージを送ってください。"),
    ("ok bye", "en", "Send a message any time."),
    ("gracias, adiós", "es", "Escríbenos cuando quieras."),
])
def test_goodbye_gets_a_short_goodbye_without_the_menu(router, services, text, language, expected):
    turn = ask(router, services, text, language=language)
    [reply] = turn.replies
    assert reply.text == expected and not reply.quick_replies
    assert "faq_misses" not in turn.data and turn.handoff is None


def test_thanks_twice_never_hands_the_chat_to_staff(router, services):
    """Two unanswered questions in a row hand over; thanks is not an unanswered question."""
    session = Session("U1", "ja", consent=True, state="")
    for text in ("駅前のおいしいラーメン屋を教えて", "ありがとう", "ありがとう"):
        turn = router.route(Inbound("text", "U1", text=text), session, services)
        assert turn.handoff is None, text
        session = Session("U1", "ja", consent=True, state=turn.state, data=turn.data)
    assert "どういたしまして" in turn.replies[-1].text


@pytest.mark.parametrize("text", ["👶", "🙏🙏", "？？", "…"])
def test_a_message_of_only_emoji_or_punctuation_gets_the_menu(router, services, text):
    turn = ask(router, services, text)
    assert turn.replies[-1].text.startswith("メニューです")
    assert "faq_misses" not in turn.data


@pytest.mark.parametrize("text, entry_id", [
    ("こんにちは。母子手帳はどこでもらえますか", "maternal-handbook"),
    ("こんにちは赤ちゃん", "newborn-visit"),   # the name of the visit, not a greeting
])
def test_a_greeting_inside_a_question_is_still_looked_up(router, services, city, text, entry_id):
    turn = ask(router, services, text)
    assert city.entry(entry_id).answer in turn.replies[0].text


def test_a_message_in_another_language_is_answered_in_it_with_a_switch_offer(router, services, catalogs):
    turn = ask(router, services, "Where can I get the maternal and child health handbook?", language="ja")
    en = catalogs.translator("en")
    reply = turn.replies[-1]
    assert en("母子手帳はどこでもらえますか？") in reply.text
    assert reply.quick_replies[0].postback == Postback("lang.set", ("en",)).encode()


def test_easy_japanese_users_are_not_switched_by_japanese_text(router, services):
    turn = ask(router, services, "母子手帳はどこでもらえるの", language="ja-easy")
    assert not any(a.postback == Postback("lang.set", ("ja",)).encode() for a in turn.replies[-1].quick_replies)


def test_browsing_by_topic_without_typing(router, services, city):
    turn = tap(router, services, Postback("faq.browse").encode())
    topics = [a.postback for a in turn.replies[0].quick_replies]
    assert len([t for t in topics if t.startswith("1|faq.topic|")]) == len(city.categories)
    category = city.categories[0]
    turn = tap(router, services, Postback("faq.topic", (category.id,)).encode())
    entries = [a.postback for a in turn.replies[0].quick_replies if a.postback.startswith("1|faq.show|")]
    assert len(entries) == min(12, len(city.entries_in(category.id)))
    turn = tap(router, services, entries[0])
    assert "【" in turn.replies[0].text


def test_a_removed_entry_behind_an_old_button_says_so(router, services):
    turn = tap(router, services, Postback("faq.show", ("gone-entry",)).encode())
    assert "古くなった" in turn.replies[0].text


@pytest.mark.parametrize("code", CODES)
def test_every_answer_topic_and_label_fits_lines_limits(router, services, city, code):
    for entry in city.faq:
        turn = tap(router, services, Postback("faq.show", (entry.id,)).encode(), language=code)
        assert line_limits.problems(render.messages(turn.replies)) == [], (code, entry.id)
    for category in city.categories:
        turn = tap(router, services, Postback("faq.topic", (category.id,)).encode(), language=code)
        assert line_limits.problems(render.messages(turn.replies)) == [], (code, category.id)
    for text in ("手続き", "ラーメン", "母子手帳"):
        turn = ask(router, services, text, language=code)
        assert line_limits.problems(render.messages(turn.replies)) == [], (code, text)


@pytest.mark.parametrize("code", CODES)
def test_an_empty_phone_is_never_shown_as_a_blank(router, services, city, code):
    for entry in city.faq:
        if not entry.window:
            continue
        turn = tap(router, services, Postback("faq.show", (entry.id,)).encode(), language=code)
        text = turn.replies[0].text
        assert "tel:" not in text and "{" not in text
        t = services.translator(code)
        assert t("電話: {phone}").replace("{phone}", "").strip() not in text


def test_a_filled_phone_follows_the_answer(city, catalogs, services, tmp_path):
    (tmp_path / "city.toml").write_text((PACK / "city.toml").read_text().replace('phone = ""', 'phone = "0467-00-0000"'))
    (tmp_path / "faq.toml").write_text((PACK / "faq.toml").read_text())
    with_phone = DialogServices(catalogs, load_city(tmp_path), services.retention, services.answers)
    from dialogs.engine import Context

    entry = next(e for e in with_phone.city.faq if e.window)
    ctx = Context(Inbound("postback", "U1"), Session("U1", "en"), with_phone, "en")
    assert "0467-00-0000" in answer_text(ctx, entry)


def test_lexical_fallback_still_answers(city, catalogs):
    lexical = build_matcher(city, catalogs.translator, semantic=False)
    assert not lexical.semantic
    ranking = lexical.rank("ぼしてちょう どこ")
    assert ranking.top.entry_id == "maternal-handbook"


def test_match_command_prints_one_json_object(tmp_path):
    out = subprocess.run([sys.executable, "-m", "bot", "match", "にんしんとどけ どこ"], cwd=ROOT, check=True,
                         capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "BOT_DATA_DIR": str(tmp_path),
                                                              "HF_HUB_OFFLINE": "1"}).stdout
    result = json.loads(out)
    assert set(result) == {"language", "risk", "faq"}
    assert result["language"] == "ja" and result["risk"] is None
    assert result["faq"]["id"] == "pregnancy-notification"
    assert {"id", "score", "question_ja", "answer_ja", "candidates"} <= set(result["faq"])


def test_the_evaluation_set_is_big_and_covers_every_language():
    cases = load_cases(EVAL)
    in_scope = [c for c in cases if c.expected != "-"]
    assert len(in_scope) >= 200
    assert {c.language for c in in_scope} == set(CODES)
    assert min(sum(1 for c in in_scope if c.language == code) for code in CODES) >= 15
    assert sum(1 for c in cases if c.expected == "-") >= 30


def test_matching_meets_its_targets_on_the_evaluation_set(matcher, city):
    cases = load_cases(EVAL)
    assert {c.expected for c in cases} - {"-"} <= {e.id for e in city.faq}
    report = evaluate(matcher, cases)
    assert report.top1 >= 0.92, report.table()
    for language, stats in report.per_language.items():
        assert stats["top1"] / stats["n"] >= 0.85, (language, report.table())
    assert report.rejection >= 0.90, report.table()
