"""An example web-chat backend integrated with AICC (here: the AICC Simulator).

What a company's backend between its chat widget and AICC does: it gets the API Fabric
AccessToken (tokenByAkSk), applies for a ccmessaging-token per customer, relays the
customer's messages with ``send`` (CONNECT, CHAT, READ, DISCONNECT) and receives AICC's
downlink pushes on a callback URL, keeping each customer's conversation for the widget.

Run it against a simulator::

    WEBCHAT_AICC_URL=http://127.0.0.1:8080 python -m webchat_backend   # from examples/

Its tests (``tests/``) drive it against the ``aicc_sim`` pytest fixture.
"""

from webchat_backend.aicc import AiccApiError, AiccClient, SendResult
from webchat_backend.app import create_app
from webchat_backend.conversations import Conversation, ConversationStore, CustomerMessage
from webchat_backend.settings import Settings

__all__ = [
    "AiccApiError",
    "AiccClient",
    "Conversation",
    "ConversationStore",
    "CustomerMessage",
    "SendResult",
    "Settings",
    "create_app",
]
