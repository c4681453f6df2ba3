import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who logs in to simdesk; team membership and roles hang off it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
