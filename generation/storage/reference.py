"""Reference images for image-to-video: verify uploads, fit them to a model's exact size.

Providers demand the image match the video size exactly (OpenAI format:
`input_reference` must equal `size`), so the studio fits it — crop to fill, or
pad to keep everything — and keeps the user's original untouched.
"""

from __future__ import annotations

import io

from django.utils.formats import number_format
from django.utils.translation import gettext
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# The extension a verified image is stored under: from Pillow's detection, never the uploaded name.
SUFFIXES = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
FITS = {"crop": "Crop to fill the frame", "pad": "Pad to keep the whole image"}


class ReferenceError(ValueError):
    pass


def verify_upload(upload) -> str:
    """Check an uploaded file really is a JPEG, PNG or WebP of sane size; return its format."""
    if upload.size > MAX_BYTES:
        raise ReferenceError(gettext("The image is %(size)s MB; the limit is 10 MB.") % {
            "size": number_format(upload.size / 1024 / 1024, 1)})
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image_format = image.format
            if image_format not in ALLOWED_FORMATS:
                if image_format:
                    raise ReferenceError(gettext("%(format)s is not supported: upload a JPEG, PNG or WebP image.") % {
                        "format": image_format})
                raise ReferenceError(gettext("That file is not supported: upload a JPEG, PNG or WebP image."))
            if image.width * image.height > MAX_PIXELS:
                raise ReferenceError(gettext("The image has too many pixels (over 40 megapixels)."))
            image.verify()  # structure check; the file must be reopened to use it
    except ReferenceError:
        raise
    except Image.DecompressionBombError:  # not an OSError: Pillow refuses to even open it
        raise ReferenceError(gettext("The image has too many pixels (over 40 megapixels).")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ReferenceError(gettext("That file is not a readable JPEG, PNG or WebP image.")) from None
    finally:
        upload.seek(0)
    return image_format


def verified_name(upload, *, stem: str) -> str:
    """A safe name to store a verified upload under ("reference.png"); ReferenceError if it isn't an image."""
    return f"{stem}.{SUFFIXES[verify_upload(upload)]}"


def fit(source, *, size: str, mode: str) -> bytes:
    """The image fitted to exactly `size` ("WxH"), as PNG bytes."""
    width, height = (int(v) for v in size.split("x"))
    with Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
        if mode == "pad":
            fitted = ImageOps.pad(image, (width, height), method=Image.Resampling.LANCZOS, color=(0, 0, 0))
        else:
            fitted = ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, format="PNG", optimize=False)
    return out.getvalue()
