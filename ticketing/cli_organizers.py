"""Flask commands for organizers: create an organization, import a venue's layout from a JSON file."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from .errors import InvalidRequestError, OrganizationNotFoundError
from .services import organizations, venues


@click.command("create-organization")
@with_appcontext
@click.option("--name", required=True, help="The organization's name.")
@click.option("--owner", "owner_email", required=True, help="Email of an existing account: the first owner.")
def create_organization_command(name, owner_email):
    """Create an organization owned by an existing account; the last line printed is its id."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise click.BadParameter("1 to 200 characters", param_hint="--name")
    owner_id = organizations.user_id_by_email(owner_email)
    if owner_id is None:
        raise click.ClickException(f"There is no account with the email {owner_email} (see create-user).")
    organization = organizations.create_organization(name=name, owner_id=owner_id)
    click.echo(f"Created organization {organization.id} ({organization.name!r}) owned by {owner_email}.", err=True)
    click.echo(organization.id)


@click.command("import-venue")
@with_appcontext
@click.option("--organization", "organization_id", required=True, type=click.IntRange(1, 2**63 - 1))
@click.option("--name", required=True, help="The venue's name.")
@click.option(
    "--layout", "layout_file", required=True, type=click.File("rb"), help="A layout in JSON (see docs/layouts/)."
)
def import_venue_command(organization_id, name, layout_file):
    """Create a venue of an organization from a layout file; the last line printed is the venue's id."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise click.BadParameter("1 to 200 characters", param_hint="--name")
    try:
        layout = json.load(layout_file)
    except (ValueError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{layout_file.name} is not JSON: {error}") from None
    try:
        venue = venues.create_venue(user_id=None, organization_id=organization_id, name=name, layout=layout)
    except OrganizationNotFoundError:
        raise click.ClickException(f"There is no organization {organization_id}.") from None
    except InvalidRequestError as error:
        problems = "\n".join(f"  {path}: {' '.join(messages)}" for path, messages in (error.details or {}).items())
        raise click.ClickException(f"{layout_file.name}: the layout is invalid:\n{problems}") from None
    click.echo(f"Created venue {venue.id} ({venue.name!r}) with {venue.seat_count} seats.", err=True)
    click.echo(venue.id)


COMMANDS = (create_organization_command, import_venue_command)
