"""What the pages say for each refusal code of the services (``contracts.refusals``).

The services answer with a stable code and the values that explain it; these are the words a
person reads for each code (catalogue ids, Chinese in ``messages.po``), the values filled in
as :class:`web.frontend.i18n.Said` fills them (a tier by its name, a date as the page writes
dates). A test walks the services' catalogue and fails on a code without words here.
"""

from __future__ import annotations

from web.frontend.i18n import N_

MESSAGES: dict[str, str] = {
    "invalid_request": N_("%(count)s fields are not filled in correctly."),
    "malformed_body": N_("The request could not be read. Please try again."),
    "body_too_large": N_("What you sent is too large (at most %(max_bytes)s bytes)."),
    "route_not_found": N_("Not found: it may have been removed, or the address is wrong."),
    "method_not_allowed": N_("This address does not take this request."),
    "unavailable": N_("The service does not answer right now. Please try again shortly."),
    "replica_behind": N_(
        "The roster has not reached this service yet. Please try again in a moment."
    ),
    "version_conflict": N_("Someone changed this at the same time. Please reload and try again."),
    "idempotency_conflict": N_(
        "This submission was already used for something else. Please submit again."
    ),
    "idempotency_key_reused": N_(
        "This submission was already used for a different request. Please submit again."
    ),
    "forgotten": N_("This member's personal data was erased; it cannot be changed."),
    "unstorable_text": N_("The text holds a character that cannot be saved."),
    "not_signed_in": N_("Please sign in again."),
    "token_invalid": N_("Your sign-in is not valid. Please sign in again."),
    "token_expired": N_("Your sign-in has expired. Please sign in again."),
    "token_revoked": N_(
        "Your sign-in was ended (password changed or account disabled). Please sign in again."
    ),
    "sign_in_failed": N_("Wrong username or password."),
    "too_many_attempts": N_(
        "Too many attempts. Please wait %(retry_after)s seconds and try again."
    ),
    "may_not_read": N_("You may not see this."),
    "read_only_role": N_("Your account can only read; it cannot make changes."),
    "may_not_act": N_("Your account may not make this change."),
    "role_required": N_("Only %(roles)s may do this."),
    "outside_tree": N_("This is outside your part of the contact network."),
    "member_must_act": N_("Only a member of the contact network can do this: sign in as a member."),
    "own_password_only": N_("You may change only your own password."),
    "own_links_only": N_("You may record contacts only with your own contacts."),
    "account_not_found": N_("No such account."),
    "username_taken": N_("The username %(username)s is already taken."),
    "own_account": N_("You cannot disable your own account: another administrator must."),
    "last_admin": N_("The last administrator cannot be disabled."),
    "not_system_client": N_("Only system accounts get access keys."),
    "account_disabled": N_("The account is disabled."),
    "current_password_required": N_("Enter your present password to change it."),
    "wrong_password": N_("That is not your present password."),
    "password_is_username": N_("The password must differ from the username."),
    "invalid_password": N_("The password must be at least %(min_length)s characters."),
    "worker_no_account": N_("Workers do not sign in; their representative acts for them."),
    "not_for_system": N_("System accounts sign in with access keys, not passwords."),
    "unit_not_found": N_("No such union organisation."),
    "unit_exists": N_("A union organisation with this id already exists."),
    "unit_closed": N_("The union organisation %(name)s is closed."),
    "unit_name_unchanged": N_("The union organisation already has this name."),
    "parent_not_allowed": N_("A city federation has no parent organisation."),
    "parent_required": N_("A %(kind)s needs a parent organisation."),
    "parent_kind_wrong": N_("A %(kind)s belongs under a %(allowed)s."),
    "member_not_found": N_("No such member."),
    "member_exists": N_("A member with this id already exists."),
    "member_not_active": N_("The member is no longer active (%(status)s)."),
    "member_forgotten": N_("This member's personal data was erased."),
    "already_forgotten": N_("This member's personal data was already erased."),
    "external_number_taken": N_("This member number is already used in that organisation."),
    "already_in_unit": N_("The member is already in this organisation."),
    "tier_unchanged": N_("The member is already a %(tier)s."),
    "date_in_future": N_("The date %(date)s is in the future (today is %(today)s)."),
    "self_link": N_("A member cannot be paired with themself."),
    "tier_mismatch": N_(
        "A %(lower_tier)s is paired with a %(expected_tier)s, not a %(upper_tier)s."
    ),
    "already_linked": N_("The member already has an upper contact: move them instead."),
    "already_linked_here": N_("The member is already paired with this member."),
    "span_full": N_(
        "This %(tier)s already keeps in contact with %(span)s people (target %(limit)s); "
        "give a reason to exceed it."
    ),
    "not_linked": N_("The member has no upper contact."),
    "link_change_before_start": N_("%(date)s is before the pairing started (%(started_on)s)."),
    "link_change_before_contact": N_(
        "A contact on %(contacted_on)s was recorded on this pairing; choose a day after it."
    ),
    "link_not_found": N_("No such pairing."),
    "pair_not_linked": N_("These two members are not paired."),
    "link_not_known_yet": N_(
        "This pairing has not reached this service yet. Please try again in a moment."
    ),
    "before_link": N_("%(date)s is before the pairing started (%(linked_on)s)."),
    "after_link": N_("%(date)s is after the pairing ended (%(ended_on)s)."),
    "other_link_period": N_("The new date %(date)s falls on another pairing period."),
    "contact_not_found": N_("No such contact."),
    "contact_exists": N_("This contact was already recorded."),
    "contact_retracted": N_("This contact was withdrawn."),
    "suggestion_not_found": N_("No such suggestion."),
    "suggestion_exists": N_("This suggestion was already submitted."),
    "wrong_status": N_("The suggestion is %(status)s; this needs it to be %(allowed)s."),
    "at_top": N_("The suggestion is already with the federation leadership."),
    "leadership_assigns": N_("Only a leadership member, at the top, assigns a department."),
    "leadership_acts": N_(
        "The suggestion is with the federation leadership: a leadership member acts on it."
    ),
    "not_holder": N_("This suggestion is not waiting on you."),
    "raiser_only": N_("Only the one who raised the suggestion may do this."),
    "actor_not_active": N_("Your membership is no longer active."),
    "actor_not_in_roster": N_("You are not in the roster yet."),
    "not_your_worker": N_("This worker is not one of your contacts."),
    "leadership_inbox": N_("The federation inbox is for leadership members."),
    "intake_link_invalid": N_(
        "This link is not valid: please check it with your union representative."
    ),
    "intake_link_revoked": N_(
        "This link is no longer in use: please ask your union representative for the new one."
    ),
    "intake_link_exists": N_("This link already exists."),
    "intake_link_not_permitted": N_("You may not issue this link."),
    "intake_revoke_not_permitted": N_(
        "Only the link's holder or a leadership member may revoke it."
    ),
    "intake_rate_limited": N_(
        "Too many suggestions by this link just now. Please try again later."
    ),
    "intake_duplicate": N_("The same suggestion was already received."),
    "holder_not_eligible": N_(
        "The receiving member must be an active union representative, committee or "
        "leadership member."
    ),
    "holder_not_in_unit": N_("The receiving member must belong to that union organisation."),
    "follow_up_code_unknown": N_("No suggestion has this follow-up code."),
    "reopen_needs_dissatisfied": N_("Only a dissatisfied rating reopens the suggestion."),
    "duplicate_of_not_allowed": N_("Only a duplicate names another suggestion."),
    "raise_choice_own_worker": N_(
        "Answer now or pass up applies only when you raise it for your own worker."
    ),
    "raise_choice_required": N_(
        "You raise it for your own worker: answer it now, or pass it up at once with the reason."
    ),
    "tag_unknown": N_("The tag %(tag)s is not in the federation's list of tags."),
    "department_not_found": N_("No such department."),
    "leadership_appoints": N_("A leadership member appoints a department's members."),
    "department_member_exists": N_("This member acts for the department already."),
    "not_department_member": N_("This member does not act for the department."),
    "not_department_member_acting": N_("You do not act for the department it is assigned to."),
    "already_taken_up": N_("The department took it up already."),
    "notification_not_found": N_("No such notification."),
    "notification_not_yours": N_("This notification is someone else's."),
    "calendar_feed_not_found": N_("No such calendar link of yours."),
    "calendar_feed_unknown": N_("This calendar link no longer works (revoked, or never issued)."),
    "one_target_required": N_("Choose either a member or a union organisation."),
    "unit_code_taken": N_("A union organisation has this code already."),
    "unit_code_id_mismatch": N_("A unit with a code gets its id from the code: leave the id out."),
    "handbook_version_stale": N_(
        "A newer version of the handbook was published meanwhile: edit that one."
    ),
    "handbook_unchanged": N_("The handbook already says this."),
    "file_not_text": N_("The file's text could not be read: save it as CSV UTF-8."),
    "rebuild_running": N_("A rebuild is already running."),
    "rebuild_not_found": N_("No rebuild since the service started."),
    "one_subject_required": N_("Give exactly one of member, suggestion or pairing."),
    "audit_input": N_("The history could not be read."),
    "import_problems": N_("The file has %(count)s problems; nothing was imported."),
    "file_empty": N_("The file is empty."),
    "file_too_large": N_("The file is larger than %(max_mib)s MB."),
    "file_not_xlsx": N_("The file is not a readable Excel workbook."),
    "file_is_xlsx": N_("The file is an Excel workbook: leave the CSV kind empty."),
    "file_not_utf8": N_("The file's text could not be read (byte %(byte)s): save it as CSV UTF-8."),
    "file_not_csv": N_("The file is not readable CSV."),
    "too_many_rows": N_("The file has more than %(max_rows)s rows."),
    "required": N_("Please fill this in."),
    "too_short": N_("Please enter at least %(min_length)s characters."),
    "too_long": N_("Please enter at most %(max_length)s characters."),
    "pattern_mismatch": N_("This is not written in the expected form."),
    "not_uuid": N_("Please choose one from the list."),
    "not_date": N_("Please enter a date like 2026-03-15."),
    "not_datetime": N_("Please enter a date and time."),
    "not_integer": N_("Please enter a whole number."),
    "not_number": N_("Please enter a number."),
    "not_boolean": N_("Please choose yes or no."),
    "too_small": N_("The number must be at least %(limit)s."),
    "too_large": N_("The number must be at most %(limit)s."),
    "not_one_of": N_("Please choose one of the options."),
    "too_few": N_("Please choose at least %(min_length)s."),
    "too_many": N_("Please choose at most %(max_length)s."),
    "duplicate_items": N_("Someone is listed twice."),
    "unknown_field": N_("This field is not part of the form."),
    "wrong_type": N_("This value is not valid."),
    "control_character": N_(
        "Please remove the invisible character (%(char)s) at position %(position)s."
    ),
    "not_for_role": N_("This does not apply to a %(role)s account."),
    "unknown_scope": N_("Unknown read scope."),
    "nothing_to_correct": N_("Nothing to correct: change the date, the way or the note."),
    "invalid_value": N_("This value is not valid."),
}
"""Words per code: the refusals, then the codes of a field at fault."""
