"""Serving stored files (takes, exports, uploads) to the people allowed to see them.

Every user or provider file goes out through `file_response`: HTTP Range for
video seeking, and headers that stop a browser from ever treating the file as
a page of the studio (see `served_as` and `protect`).

From local disk Django streams the bytes (and the range asked for). From a bucket the
member gets a short-lived presigned URL instead, after the caller's access check: the
browser then seeks with Range requests against the bucket directly, and no worker thread
holds a video open. The presigned URL names the type and disposition the bucket must
answer with, from the same allow-list.
"""

import posixpath
import re
from typing import TypeVar

from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024

# Keyed by the extension the studio gave the stored file (uploads are renamed from
# what Pillow/PyAV detected, never from the uploader's name). Only these display inline.
INLINE_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
    "mp4": "video/mp4", "mov": "video/quicktime",
    # Sound the studio detected with PyAV (generation/sound/audio.py: CONTENT_TYPES) or wrote itself.
    "wav": "audio/wav", "mp3": "audio/mpeg", "aac": "audio/aac", "m4a": "audio/mp4", "flac": "audio/flac",
    "ogg": "audio/ogg", "webm": "audio/webm",
}
DOWNLOAD_TYPES = {"zip": "application/zip", "pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}
# Even a file a browser mis-reads cannot run script or load anything: `sandbox` gives
# it an opaque origin. <img>/<video> on our pages ignore the file's own CSP.
FILE_CSP = "default-src 'none'; sandbox"


def served_as(name: str) -> tuple[str, str]:
    """(Content-Type, Content-Disposition) for a stored file, decided by its stored name only."""
    basename = posixpath.basename(name)
    suffix = basename.rsplit(".", 1)[-1].lower() if "." in basename else ""
    if suffix in INLINE_TYPES:
        return INLINE_TYPES[suffix], content_disposition_header(False, basename) or "inline"
    # Anything else is a download: a browser saves it, never renders it.
    return DOWNLOAD_TYPES.get(suffix, "application/octet-stream"), content_disposition_header(True, basename)


R = TypeVar("R", bound=HttpResponseBase)


def protect(response: R, name: str, disposition: str | None = None) -> R:
    """Set the content type, disposition and no-sniff/sandbox headers for serving stored file `name`."""
    response["Content-Type"], response["Content-Disposition"] = served_as(name)
    if disposition is not None:
        response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response


def _iter_range(f, start: int, length: int):
    f.seek(start)
    remaining = length
    try:
        while remaining > 0:
            data = f.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        f.close()


def _presigned_redirect(field_file, content_type: str, disposition: str):
    """A redirect to a presigned GET of the object, or None for storage that has no such URLs.

    The bucket answers with the type and disposition we name here, not with whatever the
    object was uploaded as.
    """
    storage = field_file.storage
    if isinstance(storage, FileSystemStorage) or not getattr(storage, "querystring_auth", False):
        return None
    url = storage.url(field_file.name, parameters={
        "ResponseContentType": content_type, "ResponseContentDisposition": disposition})
    response = HttpResponseRedirect(url)
    # The URL expires (STORAGE_URL_EXPIRE_SECONDS, 5 min): the browser may reuse this
    # redirect briefly, never past the URL's life.
    response["Cache-Control"] = "private, max-age=60"
    return response


def file_response(request: HttpRequest, field_file: FieldFile, *, download_as: str | None = None) -> HttpResponseBase:
    """Whole file, or the one byte range asked for (browsers need 206 to seek video).

    `download_as`: always a download (attachment) under that name, whatever the type.
    """
    name = field_file.name or ""
    content_type, disposition = served_as(name)
    if download_as is not None:
        disposition = content_disposition_header(True, download_as)
    redirect = _presigned_redirect(field_file, content_type, disposition)
    if redirect is not None:
        return redirect
    size = field_file.size
    match = RANGE.match(request.headers.get("Range", "").strip())
    if not match or (not match.group(1) and not match.group(2)):
        whole = FileResponse(field_file.open("rb"), content_type=content_type)
        whole["Accept-Ranges"] = "bytes"
        whole["Cache-Control"] = "private, max-age=3600"
        return protect(whole, name, disposition)
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:  # suffix range: the last N bytes
        start, end = max(0, size - int(last)), size - 1
    if start >= size or start > end:
        unsatisfiable = HttpResponse(status=416)
        unsatisfiable["Content-Range"] = f"bytes */{size}"
        return protect(unsatisfiable, name, disposition)
    length = end - start + 1
    from django.http import StreamingHttpResponse

    response = StreamingHttpResponse(
        _iter_range(field_file.open("rb"), start, length), status=206, content_type=content_type
    )
    response["Content-Length"] = str(length)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    return protect(response, name, disposition)
