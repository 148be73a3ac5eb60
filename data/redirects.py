"""HTTP GETs that follow redirects only within the host asked for (requests follows any by default).

A redirect to another host would have that host's reply stored as the source's: data.police.uk's records
replaced by whatever the other host says, labelled with data.police.uk's address. So a redirect is
followed only to the same host and port (or from http to https on the same host); any other is refused
with BadResponse naming where it pointed.
"""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import requests

from data.errors import BadResponse, SourceUnavailable, printable

MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        port = None
    return scheme, (parts.hostname or "").lower(), port


def same_host(url: str, target: str) -> bool:
    """True when `target` is on the host (and port) of `url`; http -> https on the same host counts too."""
    scheme, host, port = _origin(url)
    to_scheme, to_host, to_port = _origin(target)
    if not host or to_host != host or to_scheme not in ("http", "https"):
        return False
    if (scheme, to_scheme) == ("http", "https"):  # an upgrade to TLS on the default ports
        return port == 80 and to_port == 443
    return to_scheme == scheme and to_port == port


def get(session: requests.Session, url: str, *, timeout: float, stream: bool = True,
        max_redirects: int = MAX_REDIRECTS) -> requests.Response:
    """session.get(url) following redirects only to `url`'s own host (see the module docstring).

    Raises BadResponse for a redirect elsewhere, SourceUnavailable for more than `max_redirects` hops;
    network errors are requests' own exceptions, as from session.get."""
    target = url
    for _ in range(max_redirects + 1):
        response = session.get(target, timeout=timeout, stream=stream, allow_redirects=False)
        location = response.headers.get("Location") if response.is_redirect else None
        if location is None:
            return response
        response.close()
        following = urljoin(target, location)
        if not same_host(url, following):
            raise BadResponse(f"{url}: the server redirected to '{printable(following)}', another host; "
                              "refused (its reply would be stored as this source's).",
                              hint="If the source has really moved, give its new address explicitly "
                                   "(--api-url or $STOPSEARCH_API_URL for the police API; --url for "
                                   "use-of-force files).", url=url)
        target = following
    raise SourceUnavailable(f"{url}: more than {max_redirects} redirects.",
                            hint="The source is misconfigured; try again later.", url=url)
