#!/usr/bin/env python3
"""Create the test identities and the Placement catalog entry (idempotent).

Runs in the Keystone venv after ``keystone-manage bootstrap``. Creates:
project ``service`` and project ``demo``; user ``demo`` (role ``member`` on
``demo``: an ordinary user who gets 403s); user ``workflow`` (role ``service``
on ``service``: wfaas's own identity, the trustee of trusts); user
``placement`` (admin + service, keystonemiddleware's user in Placement);
service ``placement`` with public/internal/admin endpoints in RegionOne.
Everything comes from environment variables set by up.sh.
"""
import os
import sys

import openstack

env = os.environ
conn = openstack.connect(
    auth_url=env["OS_AUTH_URL"], username="admin", password=env["ADMIN_PASSWORD"],
    project_name="admin", user_domain_name="Default", project_domain_name="Default",
    region_name="RegionOne", load_envvars=False, load_yaml_config=False)
ident = conn.identity


def project(name):
    found = ident.find_project(name, domain_id="default")
    return found or ident.create_project(name=name, domain_id="default")


def user(name, password, proj, roles):
    found = ident.find_user(name, domain_id="default")
    u = found or ident.create_user(name=name, password=password, domain_id="default",
                                   default_project_id=proj.id)
    for role in roles:
        ident.assign_project_role_to_user(proj, u, ident.find_role(role, ignore_missing=False))
    return u


service = project("service")
demo = project("demo")
user("demo", env["DEMO_PASSWORD"], demo, ["member"])
user("workflow", env["WORKFLOW_PASSWORD"], service, ["service"])
user("placement", env["PLACEMENT_PASSWORD"], service, ["admin", "service"])
svc = ident.find_service("placement") or ident.create_service(
    name="placement", type="placement", description="Placement API")
have = {e.interface for e in ident.endpoints(service_id=svc.id)}
for interface in ("public", "internal", "admin"):
    if interface not in have:
        ident.create_endpoint(service_id=svc.id, interface=interface,
                              url=env["PLACEMENT_URL"], region_id="RegionOne")
print("catalog:", sorted((s.type, s.name) for s in ident.services()), file=sys.stderr)
