#!/usr/bin/env python3
"""A real SMTP server for smart2fa's email tests (aiosmtpd 1.4.6; started by src/tests/smtp.rs).

    python3 smtp_server.py --dir OUT [--port 0] [--mode plain|starttls|tls]
                           [--cert C --key K] [--user U --password P]

Prints "LISTENING <host> <port>" once it accepts connections; stops on SIGTERM/SIGINT/SIGKILL.
Every accepted message becomes OUT/<n>.eml (the raw DATA) and OUT/<n>.json, written last and
atomically, so a .json file is always a complete message:
  mail_from, rcpt_tos, tls (was the session encrypted), auth_login (who logged in, or null),
  headers ([name, decoded value] in order), parts ([{type, content}] of the leaf MIME parts,
  transfer encoding undone) and data (the raw message).

Modes: plain (no TLS); starttls (STARTTLS offered and required before MAIL); tls (TLS from the
first byte). With --user, AUTH PLAIN/LOGIN is required (offered only once the session is
encrypted, unless --mode plain); a wrong password gets "535 5.7.8 Authentication credentials
invalid". Recipients whose local part starts with perm-fail get "550 5.1.1 Mailbox
unavailable", with temp-fail "451 4.3.0 Try again later"; a message to one starting with slow
is answered (and written) only after 3 seconds.
"""
import argparse
import asyncio
import email
import email.policy
import itertools
import json
import logging
import os
import signal
import ssl
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_atomically(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.numbers = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("perm-fail"):
            return "550 5.1.1 Mailbox unavailable"
        if local.startswith("temp-fail"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(r.lower().startswith("slow") for r in envelope.rcpt_tos):
            await asyncio.sleep(3)  # a server that takes its time to accept a message
        raw = envelope.original_content or b""
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        auth = session.auth_data
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            # STARTTLS sets session.ssl; implicit TLS only shows on the transport.
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "auth_login": auth.login.decode() if isinstance(auth, LoginPassword) else None,
            "headers": [[k, str(v)] for k, v in msg.items()],
            "parts": [
                {"type": p.get_content_type(), "content": p.get_content()}
                for p in msg.walk()
                if not p.is_multipart()
            ],
            "data": raw.decode("utf-8", errors="replace"),
        }
        base = os.path.join(self.outdir, f"{next(self.numbers):04d}")
        write_atomically(base + ".eml", raw)
        write_atomically(base + ".json", json.dumps(meta, indent=1).encode())
        return "250 2.0.0 Message accepted for delivery"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # Not handled and not successful: aiosmtpd answers 535 5.7.8.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return check


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)  # 0: any free port
    p.add_argument("--dir", required=True)
    p.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password", default="")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)

    tls = None
    if a.mode != "plain":
        if not (a.cert and a.key):
            p.error("--cert and --key are required for starttls and tls")
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(a.cert, a.key)

    loop = asyncio.get_running_loop()
    sink = Sink(a.dir)
    options = dict(
        hostname="smtp.test",
        enable_SMTPUTF8=True,
        loop=loop,
        # aiosmtpd counts only STARTTLS as TLS: with implicit TLS it would refuse AUTH (538).
        auth_require_tls=a.mode == "starttls",
    )
    if a.user is not None:
        options.update(authenticator=authenticator(a.user, a.password), auth_required=True)
    if a.mode == "starttls":
        options.update(tls_context=tls, require_starttls=True)

    server = await loop.create_server(
        lambda: SMTP(sink, **options),
        host=a.host,
        port=a.port,
        ssl=tls if a.mode == "tls" else None,
    )
    print(f"LISTENING {a.host} {server.sockets[0].getsockname()[1]}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    warnings.filterwarnings("ignore")  # aiosmtpd warns about AUTH without TLS
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(main())
