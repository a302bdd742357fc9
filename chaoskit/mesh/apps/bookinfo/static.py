"""productpage's /static assets: small stand-ins for Bookinfo's Tailwind build and avatar.

The stylesheet is our own and covers only the classes page.py uses, so a browser shows the
page laid out, with the stars sized and coloured (the gateway routes ``prefix: /static``).
"""

from __future__ import annotations

import struct
import zlib

_STYLESHEET = b"""body{font-family:system-ui,sans-serif;margin:0;color:#1f2937}
nav{display:flex;justify-content:space-between;align-items:center;background:#1f2937;
 color:#fff;padding:12px 24px}nav a{color:#fff;text-decoration:none;font-weight:600}
.account form{display:flex;gap:6px;margin-top:8px}.account summary{cursor:pointer}
.button{background:#2563eb;color:#fff;border:0;border-radius:6px;padding:6px 12px}
main{padding:0 24px}.container{max-width:64rem;margin:24px auto}
.text-5xl{font-size:2.6em;color:#1e3a8a}.text-3xl{font-size:1.6em}.text-2xl{font-size:1.4em}
.text-lg{font-size:1.1em}.text-gray-600{color:#4b5563}
.details-table{border-collapse:collapse}.details-table th,.details-table td{padding:4px 12px;
 text-align:left;border-bottom:1px solid #e5e7eb}
.flex{display:flex;flex-wrap:wrap;gap:24px}.review{flex:1;min-width:16rem}
.stars{display:flex;gap:4px}.star{width:20px;height:20px}
blockquote{font-size:1.2em;font-weight:600;margin:12px 0}
.reviewer{font-weight:600}.served-by{font-family:monospace;color:#4b5563}
.text-black-500{color:#000}.text-red-500{color:#ef4444}
"""


def _png_1x1() -> bytes:
    """A one-pixel grey PNG (the avatar placeholder), built rather than pasted."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\xc0")  # filter byte, one grey pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


ASSETS: dict[str, tuple[str, bytes]] = {
    "/static/tailwind/tailwind.css": ("text/css; charset=utf-8", _STYLESHEET),
    "/static/img/izzy.png": ("image/png", _png_1x1()),
}
