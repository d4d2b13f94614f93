"""A file's SHA-256 is not a key to it (issue 16, finding 6).

Identical bytes are stored once, so the id an upload returns is a hash anyone
holding the same bytes — or who saw it once — can compute or copy. Naming it
attaches the file only for an account that uploaded it or may already read it
(core.uploads.file_for); to anyone else it answers exactly what an unknown id
answers. The matrix: the uploader, another citizen, an officer of the agency,
an officer of another agency and an anonymous caller, at submission, at a
supplement, in the officers' actions (result, digitization) and at download."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from chinhquyenso.accounts import services as accounts
from chinhquyenso.core.models import StoredFileGrant
from chinhquyenso.core.uploads import FILE_NOT_FOUND
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier
from tests.conftest import new_citizen_id

pytestmark = pytest.mark.django_db
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]
UNKNOWN = "0" * 64
ACTORS = ["uploader", "other_citizen", "officer_same_agency", "officer_other_agency", "anonymous"]


def client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def post(user, url, body):
    return client(user).post(url, json.dumps(body), content_type="application/json")


def upload(user, content: bytes) -> str:
    response = client(user).post("/api/dossiers/files", {"file": SimpleUploadedFile("giay-to.pdf", content)})
    assert response.status_code == 201, response.content
    return response.json()["file_id"]


@pytest.fixture
def world(birth_procedure, officers, citizen):
    other = accounts.create_citizen(identity_number=new_citizen_id(), full_name="Trần Văn Bình", password=None)
    return {
        "citizen": citizen,
        "other_citizen": other,
        "counter_a": officers["xa_a"]["counter_officer"],
        "specialist_a": officers["xa_a"]["specialist"],
        "counter_b": officers["xa_b"]["counter_officer"],
        "specialist_b": officers["xa_b"]["specialist"],
        "leader_a": officers["xa_a"]["leader"],
        "leader_b": officers["xa_b"]["leader"],
    }


def online(applicant, agency_code="xa-kien-an", components=PAPER) -> Dossier:
    return services.submit(
        actor=applicant, procedure_code="1.001193", channel="online", agency_code=agency_code, components=components
    )


def awaiting_supplement(world, applicant, agency: str) -> Dossier:
    dossier = online(applicant, "xa-kien-an" if agency == "a" else "xa-kien-thanh")
    services.request_supplement(dossier, actor=world[f"counter_{agency}"], items=["Bản sao giấy chứng sinh"])
    return dossier


def in_process(world, agency: str) -> Dossier:
    dossier = online(world["citizen"], "xa-kien-an" if agency == "a" else "xa-kien-thanh")
    services.accept(dossier, actor=world[f"counter_{agency}"])
    return dossier


def result_ready(world, agency: str) -> Dossier:
    dossier = in_process(world, agency)
    services.forward(dossier, actor=world[f"specialist_{agency}"])
    services.forward(dossier, actor=world[f"leader_{agency}"])
    return dossier


def refused_like_unknown(attempt, file_id) -> None:
    """Refused, and in words that do not tell the file exists."""
    with_file, with_unknown = attempt(file_id), attempt(UNKNOWN)
    assert with_file.status_code >= 400, with_file.content
    assert (with_file.status_code, with_file.content) == (with_unknown.status_code, with_unknown.content)


# ---------------------------------------------------------------- submission and supplement (citizen's upload)


def submit_attempt(world, actor: str):
    """A submission the actor may make, naming a file for component 1."""

    def attempt(file_id):
        components = [{"order": 1, "file_id": file_id}, {"order": 2, "on_paper": True}]
        body = {"procedure_code": "1.001193", "components": components}
        if actor in ("uploader", "other_citizen"):
            user = world["citizen" if actor == "uploader" else "other_citizen"]
            return post(user, "/api/dossiers", {**body, "channel": "online", "agency_code": "xa-kien-an"})
        applicant = {"identity_number": new_citizen_id(), "full_name": "Lê Thị Cúc"}
        user = {"officer_same_agency": world["counter_a"], "officer_other_agency": world["counter_b"]}.get(actor)
        agency = "xa-kien-thanh" if actor == "officer_other_agency" else "xa-kien-an"
        return post(
            user, "/api/dossiers", {**body, "channel": "counter", "agency_code": agency, "applicant": applicant}
        )

    return attempt


def test_refusal_reads_as_a_missing_file(world):
    file_id = upload(world["citizen"], b"%PDF-1.4 giay to rieng")
    body = submit_attempt(world, "other_citizen")(file_id).json()
    assert body == {"detail": FILE_NOT_FOUND, "field": "components[0].file_id", "code": "invalid"}


def supplement_attempt(world, actor: str):
    """A supplement the actor may make (their own dossier, or one at their counter)."""

    def attempt(file_id):
        if actor == "uploader":
            user, dossier = world["citizen"], awaiting_supplement(world, world["citizen"], "a")
        elif actor == "other_citizen":
            user, dossier = world["other_citizen"], awaiting_supplement(world, world["other_citizen"], "a")
        elif actor == "officer_same_agency":
            user, dossier = world["counter_a"], awaiting_supplement(world, world["other_citizen"], "a")
        else:
            dossier = awaiting_supplement(world, world["other_citizen"], "b")
            user = world["counter_b"] if actor == "officer_other_agency" else None
        body = {"components": [{"order": 2, "file_id": file_id}]}
        return post(user, f"/api/dossiers/{dossier.code}/actions/supplement", body)

    return attempt


CITIZEN_STEPS = {  # attempt builder, the answer to the uploader, the component that gets the file
    "submission": (submit_attempt, 201, 0),
    "supplement": (supplement_attempt, 200, 1),
}


@pytest.mark.parametrize("step", CITIZEN_STEPS)
@pytest.mark.parametrize("actor", ACTORS)
def test_attach_by_id_at_submission_and_supplement(world, actor, step):
    build, success, index = CITIZEN_STEPS[step]
    file_id = upload(world["citizen"], b"%PDF-1.4 giay to cua cong dan")
    attempt = build(world, actor)
    if actor != "uploader":
        refused_like_unknown(attempt, file_id)
        assert not Dossier.objects.filter(components__file__sha256=file_id).exists()
        return
    response = attempt(file_id)
    assert response.status_code == success, response.content
    assert response.json()["components"][index]["sha256"] == file_id


# ---------------------------------------------------------------- officers' actions (an officer's upload)


OFFICER_ACTIONS = {
    "attach_result": lambda file_id: {"file_id": file_id, "number": "12/2025"},
    "digitize": lambda file_id: {"file_id": file_id, "order": 1},
}


def officer_attempt(world, actor: str, action: str):
    """The uploader is the counter officer of xã Kiến An; the others act on a
    dossier of their own agency."""

    def attempt(file_id):
        # The counter attaches (digitizes) a result once it is ready; while in
        # process only whoever holds the step may attach it.
        stage = result_ready if action == "attach_result" else in_process
        dossier = stage(world, "b" if actor == "officer_other_agency" else "a")
        user = {
            "uploader": world["counter_a"],
            "other_citizen": world["citizen"],  # the applicant: the dossier is theirs, the action is not
            "officer_same_agency": world["specialist_a"],
            "officer_other_agency": world["specialist_b"],
        }.get(actor)
        return post(user, f"/api/dossiers/{dossier.code}/actions/{action}", OFFICER_ACTIONS[action](file_id))

    return attempt


@pytest.mark.parametrize("action", OFFICER_ACTIONS)
@pytest.mark.parametrize("actor", ACTORS)
def test_attach_by_id_in_officers_actions(world, actor, action):
    file_id = upload(world["counter_a"], b"%PDF-1.4 ket qua giai quyet")
    attempt = officer_attempt(world, actor, action)
    if actor != "uploader":
        refused_like_unknown(attempt, file_id)
        return
    response = attempt(file_id)
    assert response.status_code == 200, response.content
    if action == "attach_result":
        assert response.json()["has_electronic_result"]
    else:
        assert response.json()["components"][0]["sha256"] == file_id


def test_a_file_the_officer_may_already_read_can_be_attached(world):
    """A scan in a dossier an officer handles may be reused (as the result, or
    digitized) by that agency's officers — never by another agency's."""
    file_id = upload(world["citizen"], b"%PDF-1.4 ban chup")
    dossier = online(world["citizen"], components=[{"order": 1, "file_id": file_id}, {"order": 2, "on_paper": True}])
    services.accept(dossier, actor=world["counter_a"])
    digitize = {"file_id": file_id, "order": 2}
    foreign = in_process(world, "b")
    refused = post(world["specialist_b"], f"/api/dossiers/{foreign.code}/actions/digitize", digitize)
    assert refused.status_code == 400 and refused.json()["detail"] == FILE_NOT_FOUND
    done = post(world["specialist_a"], f"/api/dossiers/{dossier.code}/actions/digitize", digitize)
    assert done.status_code == 200, done.content
    assert done.json()["components"][1]["sha256"] == file_id


def test_every_uploader_of_identical_bytes_may_attach_them(world):
    """The bytes are stored once, but each uploader gets a grant — not only the first."""
    same = b"%PDF-1.4 mau to khai in san"
    first, second = upload(world["citizen"], same), upload(world["other_citizen"], same)
    assert first == second and StoredFileGrant.objects.filter(file__sha256=first).count() == 2
    response = submit_attempt(world, "other_citizen")(second)
    assert response.status_code == 201, response.content


# ---------------------------------------------------------------- download


def download(world, actor: str, file_id: str) -> int:
    user = {
        "uploader": world["citizen"],
        "other_citizen": world["other_citizen"],
        "officer_same_agency": world["counter_a"],
        "officer_other_agency": world["counter_b"],
    }.get(actor)
    return client(user).get(f"/tep/{file_id}/").status_code


def test_download_follows_who_may_read(world):
    file_id = upload(world["citizen"], b"%PDF-1.4 ho so")
    before = {actor: download(world, actor, file_id) for actor in ACTORS}
    assert before == {
        "uploader": 200,
        "other_citizen": 404,
        "officer_same_agency": 404,  # not yet in any dossier of the agency
        "officer_other_agency": 404,
        "anonymous": 302,  # to the sign-in page
    }
    online(world["citizen"], components=[{"order": 1, "file_id": file_id}, {"order": 2, "on_paper": True}])
    after = {actor: download(world, actor, file_id) for actor in ACTORS}
    assert after == {**before, "officer_same_agency": 200}
