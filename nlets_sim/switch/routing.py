"""Where an accepted message goes (PROTOCOL §2.2, §2.5 to §2.7), decided from the directory alone.

Pure: no journal, no sessions. The switch asks ``authorize`` whether the logged-on ORI may send
the message, then ``resolve`` for the addressed ORIs and HELP-file requests.
"""

from __future__ import annotations

from formats.codes import ErCode
from formats.envelope import InputMessage
from formats.errors import MessageRejected
from formats.value_types import value_type
from nlets_sim.switch.directory import Directory, HelpAddress
from nlets_sim.switch.keys import KeyRule

FREE_TEXT_KEYS = frozenset({"AM", "AML"})


@value_type
class Addressed:
    """A delivery to one ORI (the ORI on line 3 of the output header)."""

    ori: str


@value_type
class HelpRequest:
    """An AM to ``ssfffHELP`` (read), ``UPDT``, ``APND`` or ``CNCL``."""

    address: HelpAddress


Route = Addressed | HelpRequest


def authorize(directory: Directory, logon_ori: str, message: InputMessage, rule: KeyRule) -> None:
    """``.01.`` when the logged-on ORI may not send as the sender ORI, or when the sender's
    access categories do not allow the key, or the key is one the directory restricts to
    other ORIs (IAR: the LESC's) (a header fault: Nlets keeps ``.02.`` for the
    destination)."""
    sender = directory.agencies.get(message.sender)
    if sender is None:
        raise MessageRejected(ErCode.HEADER, f"SENDER ORI {message.sender} NOT IN DIRECTORY")
    if not directory.may_send_as(logon_ori, message.sender):
        raise MessageRejected(
            ErCode.HEADER, f"SENDER ORI {message.sender} NOT ALLOWED FOR LOGON {logon_ori}"
        )
    if rule.access not in sender.access or not directory.may_originate(sender.ori, message.mke):
        raise MessageRejected(ErCode.HEADER, f"ORI NOT AUTHORIZED FOR {message.mke}")


def resolve(directory: Directory, message: InputMessage) -> list[Route]:
    """The ORIs and HELP files a message goes to, each once, in the order written; ``.19.`` for
    a destination the directory does not know."""
    routes: list[Route] = []
    seen: set[str] = set()

    def add(ori: str) -> None:
        if ori not in seen:
            seen.add(ori)
            routes.append(Addressed(ori))

    free_text = message.mke in FREE_TEXT_KEYS
    for destination in message.destinations:
        if len(destination) == 2:
            if destination in directory.lines:
                add(directory.lines[destination].control_ori)
            elif destination in directory.regions:
                if not free_text:
                    raise MessageRejected(
                        ErCode.DESTINATION_NOT_ALLOWED,
                        f"{message.mke} DOES NOT GO TO REGION CODES, NOT {destination}",
                    )
                for line in directory.regions[destination]:
                    add(directory.lines[line].control_ori)
            else:
                raise MessageRejected(
                    ErCode.DESTINATION_INVALID, f"UNKNOWN DESTINATION {destination}"
                )
        elif destination in directory.agencies:
            add(destination)
        elif free_text and (address := directory.help_address(destination)) is not None:
            routes.append(HelpRequest(address))
        else:
            raise MessageRejected(ErCode.DESTINATION_INVALID, f"UNKNOWN DESTINATION {destination}")
    return routes


def check_help_maintainer(sender_ori: str, address: HelpAddress, directory: Directory) -> None:
    """ORIs of line ``ss`` and every line's control terminal may change an ``ss`` HELP file
    (§2.7: Nlets' example has ``AZNLETS20`` maintaining ``NLNLEHELP``); ``.02.`` otherwise."""
    if (
        address.verb != "HELP"
        and directory.agencies[sender_ori].line != address.line
        and not directory.is_control_terminal(sender_ori)
    ):
        raise MessageRejected(
            ErCode.DESTINATION_NOT_ALLOWED,
            f"ONLY LINE {address.line} OR A CONTROL TERMINAL MAY MAINTAIN {address.file_ori}",
        )
