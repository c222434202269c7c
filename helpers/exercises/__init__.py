"""The checks of the notebooks' exercises, one module per exercise.

Each exercise asks for a notebook's idea applied to a case the notebook did not show, so pasting
the demo above it does not pass. Each check runs the learner's code against something of its own
(a server, a model, a store, a stream of chunks) and compares what it observes with a record of
the same run. It fails with `NotSolvedYet` (an AssertionError) and a hint that says what was
observed against what was expected, never what to type; it prints ✅ when the exercise is solved.
Solutions are in notebooks/solutions/, one `%load` away.

    01 sentences          check_sentences(sentences)
    02 decoder            check_events(events)
    03 first_token        check_first_token(first_token_and_total)
    04 relay_usage        check_relay(relay)                  (second_model: several tokens per chunk)
    05 final_fields       check_final_fields(final_fields)
    06 resume_ids         check_resume_ids(make_app)
    07 stops              check_stops(measure_stops)
    08 pings              check_with_pings(with_pings)        (behind nginx too, where it is installed)
    09 products           check_decide(decide)                (exercise_products: the notebook's three)
    11 server_and_client  check_server_and_client(make_app, read_tokens)
"""

from .common import NotSolvedYet
from .decoder import check_events
from .final_fields import check_final_fields
from .first_token import check_first_token
from .pings import check_with_pings
from .products import check_decide, exercise_products
from .relay_usage import check_relay
from .resume_ids import check_resume_ids
from .second_model import second_model
from .sentences import check_sentences
from .server_and_client import check_server_and_client
from .stops import check_stops

__all__ = [
    "NotSolvedYet",
    "check_sentences",
    "check_events",
    "check_first_token",
    "check_relay",
    "second_model",
    "check_final_fields",
    "check_resume_ids",
    "check_stops",
    "check_with_pings",
    "check_decide",
    "exercise_products",
    "check_server_and_client",
]
