"""Objects of the portal app that belong to an organisation (for the isolation sweep)."""


def owned_objects(organisation, person):
    return [(organisation, organisation.name), (person, person.email)]


def _with_operations_objects(base):
    from tests.portal.isolation_ops import owned_objects as operations_objects

    def owned(organisation, person):
        return base(organisation, person) + operations_objects(organisation, person)

    return owned


owned_objects = _with_operations_objects(owned_objects)
