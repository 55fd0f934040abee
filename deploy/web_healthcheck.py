"""The web container's healthcheck: GET /readyz on this container's gunicorn; exit 0 on a 200.

/readyz answers 200 only when the database, the broker and the cache answer, so a web container
that cannot serve is taken out of rotation. Python's standard library only: the slim image has
no curl. The request looks like one from the TLS-terminating proxy (an allowed Host and
X-Forwarded-Proto: https), or production settings would answer with a redirect to HTTPS.
"""

import os
import sys
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (to HTTPS, to a login page) is not "ready"


def main() -> int:
    port = os.environ.get("PORT", "8000")
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/readyz",
                                     headers={"Host": host, "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:  # refused, timed out
        print(f"/readyz: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"/readyz answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
