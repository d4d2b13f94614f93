import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chinhquyenso.settings")
application = get_wsgi_application()

# A production server does not start with settings that would send broken links (cqs.E001).
from chinhquyenso.core.checks import require_ready  # noqa: E402

require_ready()
