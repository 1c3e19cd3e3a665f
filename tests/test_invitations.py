"""Inviting people: the admin learns nothing about an account until the person accepts."""

import re
import threading

from sqlalchemy import select

from frikomport.extensions import db
from frikomport.tenancy.models import Invitation, Membership, Role
from tests.factories import DEFAULT_PASSWORD, UserFactory, member
from tests.helpers import link_in, outbox, roles_of

NEW_PASSWORD = {"password": "mitt eget passord", "confirm": "mitt eget passord"}


def flash(page: str) -> str:
    return re.search(r'<div class="flash-messages".*?</div>\s*</div>', page, re.S).group(0)


def invite(client, email, role="employee", name=""):
    return client.post("/o/kongsberg/admin/members",
                       data={"email": email, "role": role, "name": name},
                       follow_redirects=True)


def test_new_person_accepts_by_creating_an_account(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    page = invite(client, "Ny.Arrangor@Kongsberg.example.org", "organiser", "Ny Arrangør").text
    assert "En invitasjon er sendt til" in page and "ny.arrangor@kongsberg.example.org" in page
    assert "ny.arrangor@kongsberg.example.org" not in roles_of(kongsberg)  # not before accepting
    [message] = outbox("ny.arrangor@kongsberg.example.org")
    assert message.subject == "Invitasjon til Kongsberg kommune i FriKomPort"
    assert "Kursarrangør" in message.body_text and "Hei Ny Arrangør," in message.body_text

    client.post("/logout")
    path = link_in(message, "/invitations/")
    assert "Opprett konto" in client.get(path).text
    response = client.post(path, data={"name": "Ny Arrangør", **NEW_PASSWORD})
    assert response.status_code == 302
    assert roles_of(kongsberg)["ny.arrangor@kongsberg.example.org"] == Role.ORGANISER
    assert client.get("/o/kongsberg/admin/courses").status_code == 200  # logged in
    assert db.session.scalar(select(Invitation)) is None
    assert client.get(path, follow_redirects=True).text.count("Invitasjonen er ugyldig") == 1


def test_existing_account_is_not_revealed_and_must_log_in_to_accept(
        client, login, kongsberg, flesberg):
    pendler = member(flesberg, Role.EMPLOYEE, email="pendler@example.org", name="Per Pendler")
    login(member(kongsberg, Role.ADMIN))
    client.get("/")  # shows (and so clears) the welcome message
    known = invite(client, "pendler@example.org").text
    unknown = invite(client, "ingen@example.org").text
    assert "Per Pendler" not in known
    # The admin is told the same, apart from the address itself.
    assert (flash(known).replace("pendler@example.org", "X")
            == flash(unknown).replace("ingen@example.org", "X"))
    assert "pendler@example.org" not in roles_of(kongsberg)

    client.post("/logout")
    path = link_in(outbox("pendler@example.org")[0], "/invitations/")
    page = client.get(path).text
    assert "Logg inn for å godta" in page and "Opprett konto og godta" not in page
    assert client.post(path, data={"name": "Inntrenger", **NEW_PASSWORD}).status_code == 200
    login(pendler)
    assert client.post(path).status_code == 302
    assert roles_of(kongsberg)["pendler@example.org"] == Role.EMPLOYEE
    db.session.refresh(pendler)
    assert pendler.home_organisation_id == flesberg.id  # the employer stays the same


def test_invitation_for_another_address_cannot_be_accepted(client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    invite(client, "riktig@example.org")
    path = link_in(outbox("riktig@example.org")[0], "/invitations/")
    client.post("/logout")
    login(member(kongsberg, Role.EMPLOYEE, email="feil@example.org"))
    assert "men du er logget inn som" in client.get(path).text
    assert client.post(path).status_code == 400
    assert "riktig@example.org" not in roles_of(kongsberg)


def test_members_are_refused_and_a_new_invitation_replaces_the_old(client, login, kongsberg):
    member(kongsberg, Role.EMPLOYEE, email="med@example.org")
    login(member(kongsberg, Role.ADMIN))
    again = client.post("/o/kongsberg/admin/members", data={"email": "med@example.org",
                                                            "role": "admin"})
    assert again.status_code == 400 and "allerede medlem" in again.text
    invite(client, "ny@example.org")
    invite(client, "ny@example.org", "organiser")
    first, second = (link_in(m, "/invitations/") for m in outbox("ny@example.org"))
    client.post("/logout")
    assert "Invitasjonen er ugyldig" in client.get(first, follow_redirects=True).text
    assert client.get(second).status_code == 200


def test_withdrawn_invitation_no_longer_works_and_tenants_are_isolated(
        client, login, kongsberg, flesberg):
    login(member(kongsberg, Role.ADMIN))
    invite(client, "ny@example.org")
    invitation = db.session.scalar(select(Invitation))
    page = client.get("/o/kongsberg/admin/members").text
    assert "Invitasjoner som ikke er godtatt ennå" in page and "ny@example.org" in page
    client.post("/logout")
    login(member(flesberg, Role.ADMIN))
    assert client.post(f"/o/flesberg/admin/invitations/{invitation.id}/withdraw",
                       follow_redirects=True).status_code == 404
    assert client.post(f"/o/kongsberg/admin/invitations/{invitation.id}/withdraw"
                       ).status_code == 404
    client.post("/logout")
    login(db.session.scalar(select(Membership).where(
        Membership.organisation_id == kongsberg.id)).user, DEFAULT_PASSWORD)
    client.post(f"/o/kongsberg/admin/invitations/{invitation.id}/withdraw")
    path = link_in(outbox("ny@example.org")[0], "/invitations/")
    client.post("/logout")
    assert "Invitasjonen er ugyldig" in client.get(path, follow_redirects=True).text


def test_an_invitation_dies_with_its_senders_admin_role(client, login, kongsberg):
    """A demoted admin's pending invitation (say, to their own second address, as
    admin) no longer grants anything."""
    inviter = member(kongsberg, Role.ADMIN)
    member(kongsberg, Role.ADMIN)  # somebody else stays admin
    login(inviter)
    invite(client, "andre.adresse@example.org", "admin")
    path = link_in(outbox("andre.adresse@example.org")[0], "/invitations/")
    inviter_membership = db.session.scalar(select(Membership).where(
        Membership.user_id == inviter.id))
    inviter_membership.role = Role.EMPLOYEE
    db.session.commit()
    client.post("/logout")
    response = client.post(path, data={"name": "Andre", **NEW_PASSWORD},
                           follow_redirects=True)
    assert response.status_code < 500 and "Invitasjonen er ugyldig" in response.text
    assert "andre.adresse@example.org" not in roles_of(kongsberg)


def test_an_account_that_never_got_a_password_is_completed(client, login, kongsberg):
    UserFactory(email="halvferdig@example.org", password_hash=None, name="Gammelt navn")
    login(member(kongsberg, Role.ADMIN))
    invite(client, "halvferdig@example.org", "employee")
    path = link_in(outbox("halvferdig@example.org")[0], "/invitations/")
    client.post("/logout")
    assert "Opprett konto" in client.get(path).text  # not "log in": there is no password
    assert client.post(path, data={"name": "Hel Ferdig", **NEW_PASSWORD}).status_code == 302
    assert roles_of(kongsberg)["halvferdig@example.org"] == Role.EMPLOYEE
    assert "Hel Ferdig" in client.get("/me/registrations").text  # logged in, new name


def test_accepting_twice_at_once_gives_one_membership(app, client, login, kongsberg):
    login(member(kongsberg, Role.ADMIN))
    invite(client, "dobbel@example.org", "organiser", "Dobbel Klikk")
    path = link_in(outbox("dobbel@example.org")[0], "/invitations/")
    clients = [app.test_client() for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def accept(each):
        barrier.wait(timeout=30)
        statuses.append(each.post(path, data={"name": "Dobbel Klikk", **NEW_PASSWORD})
                        .status_code)

    threads = [threading.Thread(target=accept, args=(each,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(status in (302, 400) for status in statuses), statuses
    assert statuses.count(302) >= 1
    assert list(roles_of(kongsberg).values()).count(Role.ORGANISER) == 1
