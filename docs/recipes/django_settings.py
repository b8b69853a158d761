"""What the Django recipe adds to a project's settings.py (docs/recipes/django.md).

tests/test_recipes_django.py configures its project from these values.
"""

import keepword as kw

# --8<-- [start:settings]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    # ... your apps
    "django_keepword",
]

KEEPWORD = {
    "DATABASE": "default",  # the DATABASES alias keepword's tables live in
    "TABLE_PREFIX": "keepword_",
    "TENANT": "shop-7",
    "CALENDAR": {"tz": "America/New_York", "hours": "Mon-Fri 09:00-17:00", "country": "US"},
    "POLICIES": [
        kw.EscalationPolicy(
            "standard",
            steps=[
                kw.Step(kw.before_due(business_hours=2), notify="owner"),
                kw.Step(kw.at_due(), notify="manager"),
            ],
        ),
    ],
}
# --8<-- [end:settings]
