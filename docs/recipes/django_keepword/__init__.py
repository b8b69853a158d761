"""A Django app that puts keepword's tables in the project's database and ticks from manage.py.

Copy this package into your project and add ``"django_keepword"`` to
``INSTALLED_APPS``.  docs/recipes/django.md explains it;
tests/test_recipes_django.py runs it.
"""
