"""Objects of the service desk owned by an organisation (for the isolation sweep): each part of
the desk keeps its own module, added here."""


def owned_objects(organisation, person):
    from tests.servicedesk.isolation_status import owned_objects as status_objects

    return status_objects(organisation, person)
