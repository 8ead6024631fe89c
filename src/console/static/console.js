// Progressive help for the policy form; every page works without it. Adds and removes
// "Allowed values" rows in place (instead of a round trip), and hides the repository
// checklist while "All repositories" is chosen.
"use strict";

function renumber(list) {
  list.querySelectorAll("li input[type=text]").forEach(function (input, i) {
    input.setAttribute("aria-label", "Allowed value " + (i + 1));
  });
}

function addValue(key) {
  var list = document.querySelector('ul.values[data-key="' + key + '"]');
  var typed = document.getElementById(key + "-new");
  if (!list || !typed || typed.value === "") return;
  var item = document.createElement("li");
  var input = document.createElement("input");
  input.type = "text";
  input.name = key + ".allowed_values";
  input.value = typed.value;
  var remove = document.createElement("button");
  remove.type = "submit";
  remove.className = "secondary";
  remove.name = "intent";
  remove.value = "remove_value:" + key + ":" + list.children.length;
  remove.textContent = "Remove";
  var hidden = document.createElement("span");
  hidden.className = "vh";
  hidden.textContent = " " + typed.value;
  remove.appendChild(hidden);
  item.appendChild(input);
  item.appendChild(document.createTextNode(" "));
  item.appendChild(remove);
  list.appendChild(item);
  renumber(list);
  typed.value = "";
  typed.focus();
}

document.addEventListener("click", function (event) {
  var button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.add) {
    event.preventDefault();
    addValue(button.dataset.add);
  } else if (button.value && button.value.indexOf("remove_value:") === 0) {
    event.preventDefault();
    var list = button.closest("ul.values");
    var key = list.dataset.key;
    button.closest("li").remove();
    renumber(list);
    var typed = document.getElementById(key + "-new");
    if (typed) typed.focus();
  }
});

document.addEventListener("keydown", function (event) {
  var input = event.target;
  if (event.key === "Enter" && input.matches && input.matches("input[data-key]")) {
    event.preventDefault();
    addValue(input.dataset.key);
  }
});

function showChecklist() {
  var checklist = document.getElementById("repo-checklist");
  var all = document.getElementById("target-all");
  if (checklist && all) checklist.hidden = all.checked;
}

document.addEventListener("change", function (event) {
  if (event.target.name === "target") showChecklist();
});
document.addEventListener("DOMContentLoaded", showChecklist);
