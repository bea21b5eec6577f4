import gc
import os

from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laborlink.settings")
application = get_wsgi_application()

# Garbage collection in a web worker (README, section "Load test"): an API page briefly holds
# thousands of objects, and with the default threshold (700) the collector ran about three
# times per page, walking them each time; at 10,000 it runs about once in five pages, and
# the cyclic garbage of a request is found all the same. The loaded application (modules,
# models, translations, URL patterns: ~170,000 objects, some only loaded by the first
# request) lives as long as the worker and is moved out of the full collections' reach.
gc.set_threshold(10_000, 10, 10)
gc.freeze()


def _freeze_what_the_first_request_loaded(**kwargs: object) -> None:
    request_finished.disconnect(_freeze_what_the_first_request_loaded)
    gc.collect()
    gc.freeze()


request_finished.connect(_freeze_what_the_first_request_loaded)
