"""The schedule: versioned hearings from the centre and the panel, refused or resolved, never lost."""
import pytest

from vksroom.controller.schedule import Schedule, ScheduleError
from vksroom.controller.store import Store
from support.lifehelp import at, clock, iso  # noqa: F401  (clock is a fixture)

SIZO = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1 г. Астаны", "number": "sizo1@vks.kz"}


@pytest.fixture
def schedule(tmp_path, clock):
    store = Store(tmp_path / "room.sqlite3")
    yield Schedule(store, clock, roles=("judge", "defendant", "wide"), timezone="Asia/Almaty")
    store.close()


def hearing(hid="H1", version=1, start=None, **over):
    doc = {"id": hid, "version": version, "case_number": "7199-25-00-1/215", "start": start or iso(10, "10:00"),
           "duration_min": 60, "far_side": SIZO, "roles": ["judge", "defendant"]}
    doc.update(over)
    return doc


def test_a_hearing_is_stored_in_utc_with_its_far_side_and_shown_in_court_time(schedule):
    change = schedule.create(hearing())
    assert change.outcome == "created" and change.applied
    h = schedule.get("H1")
    assert h.start == at(10, "10:00") and h.end == at(10, "11:00")
    assert h.far_side.number == "sizo1@vks.kz" and h.roles == ("judge", "defendant")
    assert f"{schedule.local(h.start):%H:%M}" == "10:00"
    assert h.to_dict()["start"] == "2025-03-10T05:00:00Z"
    assert "sizo-1" in schedule.far_sides()   # a full far side is added to the directory


def test_out_of_order_versions_resolve_to_the_highest_whatever_the_order(tmp_path, clock):
    messages = [("create", hearing(version=1)), ("update", hearing(version=2, start=iso(10, "11:00"))),
                ("update", hearing(version=3, start=iso(10, "15:00")))]
    orders = [messages, messages[::-1], [messages[1], messages[0], messages[2]]]
    for n, order in enumerate(orders):
        store = Store(tmp_path / f"s{n}.sqlite3")
        s = Schedule(store, clock, roles=("judge", "defendant"))
        outcomes = [getattr(s, action)(doc).outcome for action, doc in order]
        h = s.get("H1")
        assert (h.version, h.start) == (3, at(10, "15:00")), order
        assert outcomes.count("stale") == (0, 2, 1)[n]
        store.close()


def test_a_cancellation_that_overtakes_its_create_wins_and_a_later_version_revives(schedule):
    assert schedule.cancel({"id": "H9", "version": 2}).outcome == "cancelled"
    late = schedule.create(hearing("H9", version=1))
    assert late.outcome == "stale" and "older" in late.detail
    assert schedule.get("H9") is None and schedule.hearings() == []
    assert schedule.cancel({"id": "H9", "version": 2}).outcome == "unchanged"
    assert schedule.update(hearing("H9", version=3)).outcome == "created"
    assert schedule.get("H9").status == "scheduled"


def test_a_repeated_message_is_unchanged_and_a_reused_version_is_stale(schedule):
    schedule.create(hearing())
    assert schedule.create(hearing()).outcome == "unchanged"
    assert schedule.update(hearing(case_number="other")).outcome == "stale"
    assert schedule.get("H1").case_number == "7199-25-00-1/215"


def test_past_hearings_unknown_far_sides_and_bad_fields_are_refused_with_every_reason(schedule):
    with pytest.raises(ScheduleError) as e:
        schedule.create(hearing(start=iso(9, "07:00")))
    assert e.value.say("ru") == "Время начала заседания (09.03.2025 07:00) уже прошло: сейчас 08:00"
    assert "start: 2025-03-09 07:00 (court time) is in the past" in e.value.detail      # the log's words
    with pytest.raises(ScheduleError) as e:
        schedule.create(hearing(far_side="sizo-7"))
    assert e.value.codes == ["schedule.far_side_unknown"] and "'sizo-7'" in e.value.detail
    with pytest.raises(ScheduleError) as e:
        schedule.create({"id": "H 1", "version": 0})
    assert e.value.codes == ["schedule.bad_id", "schedule.bad_version"]
    assert e.value.detail.startswith("id: 'H 1' is not a hearing id")
    with pytest.raises(ScheduleError) as e:
        schedule.create(hearing(start="2025-03-10T10:00", roles=["judge", "jury", "witness"], duration_min=0, extra=1,
                                far_side={"id": "x", "kind": "embassy", "name": "", "number": "no spaces"}))
    assert e.value.codes == ["schedule.start_no_zone", "schedule.duration", "schedule.far_side_kind",
                             "schedule.far_side_name", "schedule.far_side_number", "schedule.no_preset",
                             "schedule.unknown_fields"]
    said = e.value.say("kk")
    assert "5 минуттан 720 минутқа дейін" in said and "камера позициясы жоқ: jury, Куә" in said
    for technical in ("duration_min", "far_side", "embassy", "extra", "'"):
        assert technical not in said and technical not in e.value.say("ru") and technical in e.value.detail
    with pytest.raises(ScheduleError) as e:
        schedule.create(["not", "a", "hearing"])
    assert str(e.value) == "The message about the hearing could not be read" and "list" in e.value.detail
    assert schedule.hearings(include_cancelled=True) == []
    refused = [r for r in schedule.log() if r["outcome"] == "rejected"]
    assert len(refused) == 5 and all(r["doc"] for r in refused)   # kept as received
    assert "unknown keys: extra" in refused[1]["detail"]           # the log keeps the technical words


def test_overlap_is_refused_on_the_panel_but_flagged_from_the_centre_until_resolved(schedule):
    schedule.create(hearing("A", start=iso(10, "10:00")))
    with pytest.raises(ScheduleError) as e:
        schedule.create(hearing("P", start=iso(10, "10:30")), source="panel")
    assert e.value.say("ru") == ("Заседание пересекается с заседанием по делу 7199-25-00-1/215 10.03.2025 "
                                 "в 10:00–11:00 в этом зале")
    assert schedule.get("P") is None
    # The centre moved A away, but the message placing B in A's old slot came first.
    change = schedule.create(hearing("B", start=iso(10, "10:30")))
    assert change.outcome == "created" and change.conflicts == ("A",)
    assert change.detail.startswith("overlaps hearing A (case 7199-25-00-1/215, 2025-03-10 10:00-11:00")
    assert schedule.get("A").conflicts == ("B",) and schedule.get("B").conflicts == ("A",)
    schedule.update(hearing("A", version=2, start=iso(10, "14:00")))
    assert schedule.get("A").conflicts == () and schedule.get("B").conflicts == ()
    assert [h.id for h in schedule.hearings()] == ["B", "A"]


def test_an_update_of_a_hearing_under_way_may_keep_its_start_in_the_past(schedule, clock):
    schedule.create(hearing(start=iso(9, "08:30")))
    clock.advance_to(at(9, "08:45"))
    assert schedule.update(hearing(version=2, start=iso(9, "08:30"), duration_min=90)).outcome == "updated"
    with pytest.raises(ScheduleError, match="has passed"):
        schedule.update(hearing(version=3, start=iso(9, "08:40")))
