from tests.compliance.document_helpers import private_root  # noqa: F401 - fixtures shared by the compliance tests
from tests.engagements.conftest import hire  # noqa: F401
