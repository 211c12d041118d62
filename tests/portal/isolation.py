"""Objects of the portal app that belong to an organisation (for the isolation sweep)."""


def owned_objects(organisation, person):
    return [(organisation, organisation.name), (person, person.email)]
