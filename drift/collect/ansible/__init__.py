"""Ansible inventories, read as Ansible reads them, or refused with the reason and the fix.

formats.py picks the reader (ini.py, yml.py, tomlinv.py) as Ansible picks its plugin; model.py builds
groups and variable precedence; mapping.py turns groups into drift's environments and roles; files.py
does the I/O (directories, group_vars/, host_vars/); external.py runs ansible-inventory for what only
Ansible can read. Nothing here imports drift.collect.inventory, which imports this package.
"""
