"""Background tasks (django.tasks with the database backend); each calls one use case."""
