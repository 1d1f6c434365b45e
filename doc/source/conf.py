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

"""Sphinx configuration of the documentation (``tox -e docs``).

The configuration reference is rendered from the options of the installed
package (``oslo_config.sphinxext``), the diagrams from Graphviz sources
(``sphinx.ext.graphviz``: Graphviz's ``dot`` must be installed).
"""

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
    'oslo_policy.sphinxext',
    'sphinx.ext.graphviz',
]

openstackdocs_repo_name = 'orionx/orionx-cyborg'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
openstackdocs_bug_project = 'orionx-cyborg'
openstackdocs_bug_tag = 'doc'

project = 'orionx-cyborg'
copyright = '2026, orionx-cyborg developers'

source_suffix = '.rst'
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'
# Every code block is console, ini, yaml or json, said at the block.
highlight_language = 'none'

html_theme = 'openstackdocs'
htmlhelp_basename = 'orionx-cyborgdoc'

graphviz_output_format = 'svg'
graphviz_dot_args = ['-Gfontname=Helvetica', '-Nfontname=Helvetica',
                     '-Efontname=Helvetica']
