"""The ASGI entry point: what `./studio start` serves with uvicorn (several worker processes).

ASGI, not WSGI, because pages keep one live Server-Sent Events connection open
each: under ASGI an idle stream costs a coroutine, not a thread.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio_site.settings")
application = get_asgi_application()
