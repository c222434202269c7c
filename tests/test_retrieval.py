"""helpers.retrieval: the documents sharing the most words with the question, best first, ties in list order."""

from helpers.retrieval import DOCUMENTS, retrieve


def test_the_best_matching_document_comes_first():
    assert retrieve("How does EventSource reconnect?")[0].id == "eventsource"
    assert retrieve("Proxies, buffering and X-Accel-Buffering", k=1)[0].id == "buffering"


def test_k_documents_come_back_and_ties_keep_the_list_order():
    assert len(retrieve("What is SSE?", k=3)) == 3
    assert [d.id for d in retrieve("zzz unrelated words", k=len(DOCUMENTS))] == [d.id for d in DOCUMENTS]
