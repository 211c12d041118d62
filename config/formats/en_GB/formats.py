"""The site's one way of writing dates and times (FORMAT_MODULE_PATH points here, so Django's
``date`` filter, forms and ``{{ value }}`` of a date use it; portal.templatetags.formatting's
``day`` and ``when`` name these formats). Times carry their zone (GMT or BST): the portal shows
Europe/London time and a reader abroad, or in the week of a clock change, must know which."""

DATE_FORMAT = "j M Y"                # 7 Dec 2026
DATETIME_FORMAT = "j M Y H:i T"      # 7 Dec 2026 16:19 GMT
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y H:i T"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"            # December 2026
MONTH_DAY_FORMAT = "j M"
# Input formats, number separators and the first day of the week are Django's own for en-GB
# (a format missing here falls back to django/conf/locale/en_GB).
