"""The values the service desk is shipped with, to be set by DCC: none of them is regulation.

SEC H9 requires a Target Resolution Time per Incident Category but the hours were not found in
public sources (DOMAIN.md section 8), so the table below is a starting point that DCC
administrators replace. The data migration writes these rows; the code falls back to them
only while a row is missing (a database flushed by a test).
"""

# Every shipped row and policy carries this note until DCC edits it.
DEFAULTS_NOTE = "Default to be set by DCC, not regulation."

# category -> (response minutes, resolution minutes, basis)
DEFAULT_TARGETS = {
    1: (30, 4 * 60, "24x7"),
    2: (60, 8 * 60, "24x7"),
    3: (2 * 60, 3 * 8 * 60, "working_hours"),  # 2 working hours; 3 working days
    4: (8 * 60, 5 * 8 * 60, "working_hours"),  # 1 working day; 5 working days
    5: (2 * 8 * 60, 10 * 8 * 60, "working_hours"),  # 2 working days; 10 working days
}

DEFAULT_POLICY = {
    "auto_close_working_days": 5,
    "major_report_working_days": 5,
    "maintenance_notice_working_days": 10,
    "attachment_max_bytes": 10 * 1024 * 1024,
}
