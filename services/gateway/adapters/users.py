"""Staff accounts of the web console: Argon2id passwords, one-time setup codes, sessions.

A setup code (invitation or reset) and a session id are 256 random bits, stored only as
SHA-256 like API tokens; passwords are stored as Argon2id hashes (argon2-cffi).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, func, insert, select, update

from services.gateway.adapters.tables import (
    api_tokens,
    console_key,
    login_failures,
    sessions,
    users,
)
from services.gateway.domain.access import Principal, Role

SETUP_CODE_DAYS = 7
#: the console's languages: Russian (the default) and Kyrgyz
LANGUAGES = ("ru", "ky")
DEFAULT_LANGUAGE = "ru"
MIN_PASSWORD_LENGTH = 10
THROTTLE_WINDOW = timedelta(minutes=15)
_HASHER = PasswordHasher()  # Argon2id with the library's (RFC 9106 low-memory) defaults
#: verified against when the login is unknown, so both answers take the same time
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User:
    id: str
    login: str
    full_name: str
    role: Role
    school_id: str | None
    teacher_id: str | None
    language: str = "ru"  # the console's language for this user: "ru" or "ky"

    def principal(self) -> Principal:
        """The same principal an API token gives: one scope check for pages and API."""
        return Principal(token_id=f"user:{self.id}", role=self.role, school_id=self.school_id,
                         teacher_id=self.teacher_id)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _user(row: Any) -> User:
    return User(row.id, row.login, row.full_name, Role(row.role), row.school_id, row.teacher_id,
                row.language or DEFAULT_LANGUAGE)


def create_user(connection: Connection, login: str, full_name: str, role: Role, *,
                school_id: str | None, teacher_id: str | None,
                language: str = DEFAULT_LANGUAGE) -> tuple[User, str]:
    """A new account without a password, and its one-time setup code (shown once)."""
    if language not in LANGUAGES:
        raise ValueError(f"the language is one of {', '.join(LANGUAGES)}")
    if role is Role.ADMIN and school_id is not None:
        raise ValueError("an admin account covers every school; give no school")
    if role is not Role.ADMIN and not school_id:
        raise ValueError(f"a {role.value} account needs a school")
    if role in (Role.TEACHER, Role.CLASS_TEACHER) and not teacher_id:
        raise ValueError(f"a {role.value} account needs the teacher's id (--teacher)")
    if not login.strip() or not full_name.strip():
        raise ValueError("login and full name are required")
    if connection.execute(select(users.c.id).where(users.c.login == login)).first():
        raise ValueError(f"the login {login} is taken")
    user_id = secrets.token_hex(8)
    connection.execute(insert(users).values(
        id=user_id, login=login, full_name=full_name, role=role.value, school_id=school_id,
        teacher_id=teacher_id, language=language, created_at=datetime.now(UTC)))
    return User(user_id, login, full_name, role, school_id, teacher_id, language), \
        issue_setup_code(connection, user_id)


def set_language(connection: Connection, user_id: str, language: str) -> None:
    """The language the console speaks to this user."""
    if language not in LANGUAGES:
        raise ValueError(f"the language is one of {', '.join(LANGUAGES)}")
    connection.execute(update(users).where(users.c.id == user_id).values(language=language))


def find_user(connection: Connection, login: str) -> User | None:
    row = connection.execute(select(users).where(users.c.login == login)).first()
    return _user(row) if row else None


def list_users(connection: Connection, school_id: str | None) -> list[dict[str, Any]]:
    query = select(users.c.id, users.c.login, users.c.full_name, users.c.role,
                   users.c.school_id, users.c.teacher_id, users.c.language, users.c.created_at,
                   users.c.disabled_at, users.c.password_hash.is_not(None).label("has_password"))
    if school_id is not None:
        query = query.where(users.c.school_id == school_id)
    return [dict(row._mapping) for row in connection.execute(query.order_by(users.c.login))]


def issue_setup_code(connection: Connection, user_id: str) -> str:
    """A one-time code to set the password (invitation); replaces any earlier one."""
    code = secrets.token_urlsafe(32)
    connection.execute(update(users).where(users.c.id == user_id).values(
        setup_code_hash=_sha(code),
        setup_expires_at=datetime.now(UTC) + timedelta(days=SETUP_CODE_DAYS)))
    return code


def reset_password(connection: Connection, user_id: str) -> str:
    """The password is cleared and every session ended; a new setup code is returned."""
    connection.execute(update(users).where(users.c.id == user_id).values(password_hash=None))
    end_sessions(connection, user_id)
    return issue_setup_code(connection, user_id)


def set_password(connection: Connection, code: str, password: str) -> User | None:
    """Use a setup code once; None when it is unknown, used, expired or the user disabled."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов")
    row = connection.execute(select(users).where(
        users.c.setup_code_hash == _sha(code), users.c.setup_expires_at > datetime.now(UTC),
        users.c.disabled_at.is_(None))).first()
    if row is None:
        return None
    connection.execute(update(users).where(users.c.id == row.id).values(
        password_hash=_HASHER.hash(password), setup_code_hash=None, setup_expires_at=None))
    return _user(row)


def check_password(connection: Connection, login: str, password: str) -> User | None:
    row = connection.execute(select(users).where(users.c.login == login)).first()
    stored = row.password_hash if row is not None else None
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or stored is None or row.disabled_at is not None:
        return None
    return _user(row)


def disable(connection: Connection, user_id: str) -> int:
    """Clause 3.2: the account stops at once - its sessions end, its API tokens are revoked.

    Returns how many tokens were revoked."""
    now = datetime.now(UTC)
    connection.execute(update(users).where(users.c.id == user_id)
                       .values(disabled_at=now, setup_code_hash=None, setup_expires_at=None))
    end_sessions(connection, user_id)
    revoked = connection.execute(update(api_tokens).where(
        api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now))
    return revoked.rowcount or 0


def start_session(connection: Connection, user_id: str) -> str:
    session_id = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    connection.execute(insert(sessions).values(id_hash=_sha(session_id), user_id=user_id,
                                               created_at=now, last_seen_at=now))
    return session_id


def session_user(connection: Connection, session_id: str, *, idle: timedelta,
                 absolute: timedelta, now: datetime | None = None) -> User | None:
    """The session's user, touching it; None when ended, idle or too old, or user disabled."""
    now = now or datetime.now(UTC)
    row = connection.execute(
        select(users, sessions.c.id_hash).join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.id_hash == _sha(session_id), sessions.c.ended_at.is_(None),
               sessions.c.last_seen_at > now - idle, sessions.c.created_at > now - absolute,
               users.c.disabled_at.is_(None))).first()
    if row is None:
        return None
    connection.execute(update(sessions).where(sessions.c.id_hash == row.id_hash)
                       .values(last_seen_at=now))
    return _user(row)


def end_session(connection: Connection, session_id: str) -> None:
    connection.execute(update(sessions).where(sessions.c.id_hash == _sha(session_id))
                       .values(ended_at=datetime.now(UTC)))


def end_sessions(connection: Connection, user_id: str) -> None:
    connection.execute(update(sessions).where(sessions.c.user_id == user_id,
                                              sessions.c.ended_at.is_(None))
                       .values(ended_at=datetime.now(UTC)))


def throttled(connection: Connection, limits: dict[str, int]) -> bool:
    """Whether any key (``account:…``, ``address:…``) reached its failures in the window."""
    since = datetime.now(UTC) - THROTTLE_WINDOW
    for key, limit in limits.items():
        count = connection.execute(select(func.count()).select_from(login_failures).where(
            login_failures.c.key == key, login_failures.c.at > since)).scalar_one()
        if count >= limit:
            return True
    return False


def record_failure(connection: Connection, keys: list[str]) -> None:
    now = datetime.now(UTC)
    connection.execute(delete(login_failures).where(login_failures.c.at < now - THROTTLE_WINDOW))
    for key in keys:
        connection.execute(insert(login_failures).values(key=key[:200], at=now))


def signing_key(connection: Connection) -> str | None:
    return connection.execute(select(console_key.c.secret).where(console_key.c.id == 1)).scalar()
