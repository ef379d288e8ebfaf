"""`python -m bot staff add | password | role | disable | enable | list`: console accounts.

Passwords are read from stdin (asked twice at a terminal; the first line when piped), never
from the command line, where they would stay in the shell's history.
"""

from __future__ import annotations

import argparse
import getpass
import sys

import redis

from bot.config import Settings
from bot.console.accounts import ROLES, AccountError, StaffAccounts


def add_parser(subparsers) -> None:
    staff = subparsers.add_parser("staff", help="staff console accounts (needs REDIS_URL)")
    actions = staff.add_subparsers(dest="staff_action", required=True)
    add = actions.add_parser("add", help="add an account; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="staff")
    actions.add_parser("password", help="set a new password (from stdin)").add_argument("name")
    role = actions.add_parser("role", help="make an account staff or admin")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    actions.add_parser("disable", help="stop an account and end its sessions").add_argument("name")
    actions.add_parser("enable", help="let a stopped account sign in again").add_argument("name")
    actions.add_parser("list", help="name, role and state of each account")


def read_password(stdin=None) -> str:
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise AccountError("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.redis_url:
        print("staff: REDIS_URL is not set. Accounts live in the bot's Redis: set REDIS_URL to it.", file=sys.stderr)
        return 2
    client = redis.Redis.from_url(settings.redis_url)
    accounts = StaffAccounts(client, settings.key_prefix)
    try:
        if args.staff_action == "add":
            account = accounts.add(args.name, read_password(), args.role)
            print(f"added {account.name} ({account.role})")
        elif args.staff_action == "password":
            accounts.set_password(args.name, read_password())
            print(f"new password for {args.name}")
        elif args.staff_action == "role":
            print(f"{accounts.set_role(args.name, args.role).name} is now {args.role}")
        elif args.staff_action in ("disable", "enable"):
            from bot.console.accounts import ConsoleSessions

            accounts.set_disabled(args.name, args.staff_action == "disable")
            if args.staff_action == "disable":
                from bot.handoff import HandoffQueue

                ConsoleSessions(client, settings.key_prefix, idle_s=60).close_all_of(args.name)
                back = HandoffQueue(client, settings.key_prefix).unclaim_all(args.name)
                if back:
                    print(f"{len(back)} conversation(s) {args.name} held are waiting in the queue again")
            print(f"{args.name} {args.staff_action}d")
        else:
            for account in accounts.all():
                print(f"{account.name}\t{account.role}\t{'disabled' if account.disabled else 'active'}")
    except AccountError as exc:
        print(f"staff: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0
