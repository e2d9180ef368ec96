"""What a command checks before it starts: can it reach its services with these settings?

Each failure is one line naming the setting, where it points (never a password), what went
wrong and the fix where there is an obvious one. A problem is `permanent` when waiting can't fix
it (a wrong password, a missing database or role, a Redis database that doesn't exist); otherwise
the service just isn't answering yet, and a long-running command may wait for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import aiormq
import asyncpg
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.engine import make_url

CHECK_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Problem:
    setting: str
    message: str
    permanent: bool

    def __str__(self) -> str:
        return f"{self.setting}: {self.message}"


def _unreachable(setting: str, where: str, service: str, error: BaseException) -> Problem:
    text = str(error)
    if isinstance(error, TimeoutError | RedisTimeoutError):
        reason = f"no answer within {CHECK_TIMEOUT_SECONDS:g}s"
    elif isinstance(error, ConnectionRefusedError) or any(
        mark in text for mark in ("Connect call failed", "refused", "111")
    ):
        reason = "connection refused"
    else:
        reason = text
    return Problem(setting, f"nothing answers at {where} ({reason}); is {service} running?", False)


async def database_problem(url: str, setting: str = "TASKYARD_DATABASE_URL") -> Problem | None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        folder = Path(parsed.database or ".").parent
        if parsed.database and not folder.is_dir():
            message = (
                f"the SQLite file's folder {folder} does not exist; create it: mkdir -p {folder}"
            )
            return Problem(setting, message, True)
        return None
    host, port = parsed.host or "localhost", parsed.port or 5432
    user, name, where = parsed.username or "postgres", parsed.database or "", f"{host}:{port}"
    try:
        connection = await asyncpg.connect(
            host=host,
            port=port,
            user=user,
            password=parsed.password,
            database=name or None,
            timeout=CHECK_TIMEOUT_SECONDS,
        )
    except asyncpg.InvalidCatalogNameError:
        fix = f"createdb -h {host} -p {port} -U postgres --owner {user} {name}"
        return Problem(
            setting, f'database "{name}" does not exist at {where}; create it: {fix}', True
        )
    except asyncpg.InvalidPasswordError:
        message = f'password authentication failed for role "{user}" at {where}; check the URL'
        return Problem(setting, message, True)
    except asyncpg.InvalidAuthorizationSpecificationError as error:
        if "does not exist" in str(error):
            fix = f"createuser -h {host} -p {port} -U postgres --pwprompt {user}"
            return Problem(
                setting, f'role "{user}" does not exist at {where}; create it: {fix}', True
            )
        return Problem(setting, f'{where} refused role "{user}": {error}', True)
    except (OSError, TimeoutError) as error:
        return _unreachable(setting, where, "PostgreSQL", error)
    await connection.close()
    return None


async def redis_problem(url: str, setting: str = "TASKYARD_REDIS_URL") -> Problem | None:
    parts = urlsplit(url)
    where = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
    client = Redis.from_url(
        url, socket_timeout=CHECK_TIMEOUT_SECONDS, socket_connect_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        await client.ping()
    except AuthenticationError as error:
        return Problem(setting, f"Redis at {where} refused the credentials: {error}", True)
    except ResponseError as error:  # raised on connect: a database number it doesn't have
        database = parts.path.strip("/") or "0"
        message = f"Redis at {where} has no database {database} ({error}); a default Redis has 0-15"
        return Problem(setting, message, True)
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        return _unreachable(setting, where, "Redis", error)
    finally:
        await client.aclose()
    return None


async def broker_problem(url: str, setting: str = "TASKYARD_BROKER_URL") -> Problem | None:
    parts = urlsplit(url)
    default_port = 5671 if parts.scheme == "amqps" else 5672
    where = f"{parts.hostname or 'localhost'}:{parts.port or default_port}"
    quiet = logging.getLogger("aiormq")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # it logs each failed try itself
    try:
        connection = await aio_pika.connect(url, timeout=CHECK_TIMEOUT_SECONDS)
    except aiormq.exceptions.ProbableAuthenticationError:
        message = (
            f"RabbitMQ at {where} refused the login (ACCESS_REFUSED); check the user and password"
        )
        return Problem(setting, message, True)
    except aiormq.exceptions.ProtocolSyntaxError:
        vhost = parts.path.strip("/") or "/"
        message = f'RabbitMQ at {where} refused the virtual host "{vhost}"; check the URL'
        return Problem(setting, message, True)
    except (OSError, TimeoutError) as error:
        return _unreachable(setting, where, "RabbitMQ", error)
    finally:
        quiet.setLevel(level)
    await connection.close()
    return None
