# Copyright (c) 2026 orionx-cyborg developers
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Sphinx configuration of the release notes (``tox -e releasenotes``).

reno reads the notes in ``releasenotes/notes`` through git history, so
the build needs a clone with its history.
"""

extensions = [
    'openstackdocstheme',
    'reno.sphinxext',
]

openstackdocs_repo_name = 'orionx/orionx-cyborg'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
openstackdocs_bug_project = 'orionx-cyborg'
openstackdocs_bug_tag = 'releasenotes'

templates_path = ['_templates']
source_suffix = '.rst'
master_doc = 'index'

project = 'orionx-cyborg Release Notes'
copyright = '2026, orionx-cyborg developers'

# Release notes have no version of their own: reno names the releases.
version = ''
release = ''

exclude_patterns = []
pygments_style = 'native'

html_theme = 'openstackdocs'
html_static_path = ['_static']
htmlhelp_basename = 'OrionXCyborgReleaseNotesdoc'

# Where the translations would go (the OpenStack layout).
locale_dirs = ['locale/']
