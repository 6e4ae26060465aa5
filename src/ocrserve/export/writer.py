"""A minimal PDF 1.7 file writer: numbered objects, streams, a cross-reference table."""

from __future__ import annotations

import zlib


class PdfFile:
    def __init__(self) -> None:
        self.objects: list[bytes | None] = []

    def reserve(self) -> int:
        self.objects.append(None)
        return len(self.objects)

    def set(self, obj_id: int, body: bytes) -> None:
        self.objects[obj_id - 1] = body

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def add_stream(self, data: bytes, extra: str = "", compress: bool = True) -> int:
        if compress:
            data = zlib.compress(data, 6)
            extra = f"/Filter /FlateDecode {extra}"
        return self.add(f"<< /Length {len(data)} {extra} >>\nstream\n".encode() + data + b"\nendstream")

    def to_bytes(self, root_id: int, info_id: int | None = None) -> bytes:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(self.objects, start=1):
            if body is None:
                raise ValueError(f"object {i} was reserved but never written")
            offsets.append(len(out))
            out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(self.objects) + 1}\n0000000000 65535 f \n".encode()
        out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
        info = f" /Info {info_id} 0 R" if info_id else ""
        out += f"trailer\n<< /Size {len(self.objects) + 1} /Root {root_id} 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
        return bytes(out)
