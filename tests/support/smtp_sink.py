#!/usr/bin/python3
"""A throwaway SMTP server for the tests (tests/support/smtp_sink.h).

Listens on 127.0.0.1 (port 0 unless --port), prints "listening on port N" as
its first stdout line, and saves every message it accepts in --dir as
NNNNNN.envelope (line 1: MAIL FROM, then one line per RCPT TO) and
NNNNNN.eml (the raw message as received, CRLF line ends, dot-stuffing
undone), the .eml last and by rename, so a reader never sees half a message.

--rcpt-code / --data-code 451 or 550 answer that code to every RCPT TO or
DATA (a temporary or a permanent refusal). --user/--password require
AUTH PLAIN or LOGIN with exactly those credentials before MAIL (over plain
TCP: auth_require_tls=False).

It never outlives the test: it exits after --max-lifetime seconds, when its
parent process is gone, and on SIGTERM. Run it with /usr/bin/python3 (the
Debian python3-aiosmtpd).
"""

import argparse
import asyncio
import logging
import os
import signal
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

REPLIES = {
    451: "451 4.3.0 Temporary failure, try again later",
    550: "550 5.1.1 Mailbox unavailable",
}


class Handler:
    def __init__(self, directory, rcpt_code, data_code):
        self.directory = directory
        self.rcpt_code = rcpt_code
        self.data_code = data_code
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_code:
            return REPLIES[self.rcpt_code]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_code:
            return REPLIES[self.data_code]
        self.count += 1
        base = os.path.join(self.directory, "%06d" % self.count)
        with open(base + ".envelope", "w", encoding="utf-8") as f:
            f.write("\n".join([envelope.mail_from] + list(envelope.rcpt_tos)) + "\n")
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rcpt-code", type=int, choices=sorted(REPLIES), default=0)
    parser.add_argument("--data-code", type=int, choices=sorted(REPLIES), default=0)
    parser.add_argument("--user", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--max-lifetime", type=float, default=300.0)
    args = parser.parse_args()
    # aiosmtpd warns about AUTH without TLS, which is what the tests want.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)

    handler = Handler(args.dir, args.rcpt_code, args.data_code)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == args.user.encode()
              and auth_data.password == args.password.encode())
        # handled=False: aiosmtpd then answers 535 itself.
        return AuthResult(success=ok, handled=False)

    def factory():
        if args.user:
            return SMTP(handler, hostname="sink.test", auth_required=True,
                        auth_require_tls=False, authenticator=authenticator)
        return SMTP(handler, hostname="sink.test")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=args.port, reuse_address=True))
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write("listening on port %d\n" % port)
    sys.stdout.flush()

    parent = os.getppid()

    def watch_parent():
        if os.getppid() != parent:
            loop.stop()
        else:
            loop.call_later(0.5, watch_parent)

    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.call_later(args.max_lifetime, loop.stop)
    loop.call_later(0.5, watch_parent)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
