/* Gradio's own toast for a full queue says "This application is currently busy"; the chat page
   says it in our words instead (web/texts.py BUSY, put in place of the marker below). */
(function () {
  "use strict";
  var theirs = "This application is currently busy", ours = "__PAINBOT_BUSY__";
  function fix(node) {
    if (node.nodeType === 3) {
      if (node.nodeValue.indexOf(theirs) !== -1) node.nodeValue = ours;
      return;
    }
    if (node.nodeType !== 1) return;
    var walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT), text;
    while ((text = walker.nextNode())) {
      if (text.nodeValue.indexOf(theirs) !== -1) text.nodeValue = ours;
    }
  }
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      if (r.type === "characterData") fix(r.target);
      else r.addedNodes.forEach(fix);
    });
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
})();
