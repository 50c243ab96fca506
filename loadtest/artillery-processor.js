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

function runUnfinished(context, next) {
  return next(!["succeeded", "failed"].includes(context.vars.runStatus));
}

function runSucceeded(context, next) {
  return next(context.vars.runStatus === "succeeded");
}

module.exports = { pickDocument, runUnfinished, runSucceeded };
