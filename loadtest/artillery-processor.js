// Hooks for loadtest/artillery.yml: request bodies from the project's sample documents, run polling.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const samples = path.join(root, "samples");
const documents = [path.join(root, "events", "schedule.xml")]
  .concat(fs.readdirSync(samples).filter((n) => n.endsWith(".xml")).sort().map((n) => path.join(samples, n)))
  .map((file) => fs.readFileSync(file));

function pickDocument(requestParams, context, ee, next) {
  requestParams.body = documents[Math.floor(Math.random() * documents.length)];
  return next();
}

// A `whileTrue` function gets the context and a callback. Artillery ignores a loop's `count` when the loop
// has `whileTrue`: the bound on polls is kept here.
const MAX_POLLS = 10;

function runUnfinished(context, next) {
  context.vars.polls = (context.vars.polls || 0) + 1;
  return next(context.vars.polls <= MAX_POLLS && !["succeeded", "failed"].includes(context.vars.runStatus));
}

// An `ifTrue` function gets the variables and returns (a throw would count as true).
function runSucceeded(vars) {
  return vars.runStatus === "succeeded";
}

module.exports = { pickDocument, runUnfinished, runSucceeded };
