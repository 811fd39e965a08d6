# -*- coding: utf-8 -*-
"""Test-only connection: runs commands on this machine like `local`, but is not `local`.

It stands for a jump host (cameras often sit on a network only such a host reaches): a task delegated to a
host with this connection must run the real module there, not the controller-side logic.
"""

from __future__ import annotations

from ansible.plugins.connection.local import Connection as LocalConnection

DOCUMENTATION = r"""
name: jumphost
short_description: Local execution under another transport name, for the collection's tests
description: Used by the collection's integration tests only.
author: vapix.q6000 contributors
"""


class Connection(LocalConnection):
    transport = "jumphost"
