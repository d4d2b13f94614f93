"""Digital signatures (PAdES) for every app: keys, signers, the signing service, the test PKI."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# pyHanko imports cryptography's DSA module, deprecated since cryptography 46; the platform never signs
# or accepts DSA, and the warning would otherwise be printed by every `cqs` command.
warnings.filterwarnings("ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning)
