"""Serving a take's files to team members, with HTTP Range for video seeking.

From local disk Django streams the bytes (and the range asked for). From a bucket the
member gets a short-lived presigned URL instead, after the caller's access check: the
browser then seeks with Range requests against the bucket directly, and no worker thread
holds a video open.
"""

import re

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect

RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


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


def file_response(request, field_file, content_type: str, *, disposition: str = "inline"):
    """Whole file, or the one byte range asked for (browsers need 206 to seek video)."""
    redirect = _presigned_redirect(field_file, content_type, disposition)
    if redirect is not None:
        return redirect
    size = field_file.size
    match = RANGE.match(request.headers.get("Range", "").strip())
    if not match or (not match.group(1) and not match.group(2)):
        response = FileResponse(field_file.open("rb"), content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        response["Cache-Control"] = "private, max-age=3600"
        return response
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:  # suffix range: the last N bytes
        start, end = max(0, size - int(last)), size - 1
    if start >= size or start > end:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    length = end - start + 1
    from django.http import StreamingHttpResponse

    response = StreamingHttpResponse(
        _iter_range(field_file.open("rb"), start, length), status=206, content_type=content_type
    )
    response["Content-Length"] = str(length)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    return response
