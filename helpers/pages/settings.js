// A page's settings, shared by every page: the user's text (a prompt, a question) in the URL's
// #fragment, which the browser never sends to a server (no request head to outgrow, no access
// log); lab controls in the ?query or the #fragment.
function setting(key) {
  const fragment = new URLSearchParams(location.hash.slice(1));
  return fragment.get(key) ?? new URLSearchParams(location.search).get(key);
}
