// Live password-policy check for the hosted pages. Progressive: the server checks everything,
// and the pages work the same without this script. No inline script: CSP allows only 'self'.
(function () {
  'use strict';
  var SYMBOLS = '^$*.[]{}()?-"!@#%&/\\,><\':;|_~`';
  var tests = {
    length: function (p, rule) { return Array.from(p).length >= Number(rule.getAttribute('data-min')); },
    lowercase: function (p) { return p !== p.toUpperCase() && /\p{Ll}/u.test(p); },
    uppercase: function (p) { return /\p{Lu}/u.test(p); },
    number: function (p) { return /[0-9]/.test(p); },
    symbol: function (p) { return Array.from(p).some(function (c) { return SYMBOLS.indexOf(c) !== -1; }); }
  };
  function check(list, input) {
    var rules = list.querySelectorAll('li[data-rule]');
    for (var i = 0; i < rules.length; i++) {
      var rule = rules[i];
      var test = tests[rule.getAttribute('data-rule')];
      if (!test) continue;
      var ok = test(input.value, rule);
      rule.className = ok ? 'passwordCheck-valid-customizable' : 'passwordCheck-notValid-customizable';
    }
  }
  document.addEventListener('DOMContentLoaded', function () {
    var list = document.getElementById('passwordRules');
    if (!list) return;
    var input = document.getElementById(list.getAttribute('data-for'));
    if (!input) return;
    input.addEventListener('input', function () { check(list, input); });
    check(list, input);
  });
})();
