"""local/template.py: the local stack reads names, routes and limits from template.yaml and nowhere else."""

from __future__ import annotations

import re

import pytest
import yaml

from local.template import ROOT, CfnLoader, load_template


@pytest.fixture(scope="module")
def app():
    return load_template()


def test_short_tags_become_intrinsic_functions():
    doc = yaml.load(
        "a: !Ref X\nb: !GetAtt Q.Arn\nc: !Sub 'x-${Y}'\nd: !Join [',', [a, b]]\n", Loader=CfnLoader
    )
    assert doc == {
        "a": {"Ref": "X"},
        "b": {"Fn::GetAtt": ["Q", "Arn"]},
        "c": {"Fn::Sub": "x-${Y}"},
        "d": {"Fn::Join": [",", ["a", "b"]]},
    }


def test_bucket_name_is_resolved_from_its_sub(app):
    assert (app.bucket_id, app.bucket_name) == ("DataBucket", "onair-local-123456789012-data")


def test_queues_carry_visibility_and_redrive_from_parameters(app):
    assert set(app.queues) == {"JobQueue", "JobDLQ", "ImportQueue", "ImportDLQ"}
    max_receive = int(app.parameters["MaxReceiveCount"])
    job, imports = app.queues["JobQueue"], app.queues["ImportQueue"]
    assert (job.dlq, job.max_receive_count) == ("JobDLQ", max_receive)
    assert (imports.dlq, imports.max_receive_count) == ("ImportDLQ", max_receive)
    # AWS's rule for SQS event sources: visibility at least 6 x the consumer's timeout
    assert job.visibility_timeout >= 6 * app.functions["RunFunction"].timeout
    assert imports.visibility_timeout >= 6 * app.functions["ImportFunction"].timeout
    assert job.arn == "arn:aws:sqs:us-east-1:123456789012:JobQueue"


def test_functions_merge_globals_and_resolve_environment(app):
    run = app.functions["RunFunction"]
    assert run.code_uri == ROOT / "functions" / "run"
    assert (run.handler, run.timeout, run.memory_size) == ("app.lambda_handler", 120, 1024)
    assert run.reserved_concurrency == int(app.parameters["RunConcurrency"])
    env = app.resolve(dict(app.functions["ApiFunction"].environment), {"JobQueue": "http://moto/JobQueue"})
    assert env["BUCKET_NAME"] == app.bucket_name
    assert env["POWERTOOLS_SERVICE_NAME"] == "onair-api"  # the function's value over Globals
    assert env["JOB_QUEUE_URL"] == "http://moto/JobQueue"
    assert env["IMPORT_DLQ_URL"].endswith("/123456789012/ImportDLQ")
    assert env["RUN_CONCURRENCY_LIMIT"] == app.parameters["RunConcurrency"]


def test_http_routes_go_to_the_api_function_and_feeds_to_the_feed_function(app):
    functions = {route.route_key: route.function for route in app.routes}
    assert {
        "GET /health": "ApiFunction",
        "POST /schedules": "ApiFunction",
        "POST /schedules/{schedule_id}/runs": "ApiFunction",
        "GET /runs/{run_id}": "ApiFunction",
        "GET /feeds/{token}/{name}": "FeedFunction",
        "HEAD /feeds/{token}/{name}": "FeedFunction",
    }.items() <= functions.items()
    assert set(functions.values()) == {"ApiFunction", "FeedFunction"}


def test_scheduled_functions_and_their_rate(app):
    (tick,) = app.schedules
    assert (tick.function, tick.seconds) == ("RefreshFunction", 600)
    assert (
        tick.expression
        == app.raw["Resources"]["RefreshFunction"]["Properties"]["Events"]["Tick"]["Properties"][
            "ScheduleExpression"
        ]
    )


def test_sqs_sources_and_their_caps(app):
    sources = {source.function: source for source in app.sqs_sources}
    run, uploads = sources["RunFunction"], sources["ImportFunction"]
    assert (run.queue, run.batch_size, run.report_batch_item_failures) == ("JobQueue", 1, True)
    assert run.maximum_concurrency == int(app.parameters["RunConcurrency"])
    assert app.pollers(run) == int(app.parameters["RunConcurrency"])
    assert (uploads.queue, uploads.batch_size, app.pollers(uploads)) == ("ImportQueue", 5, 2)


def test_bucket_notification_and_layers(app):
    (notification,) = app.notifications
    assert (notification.queue, notification.event, notification.prefix) == (
        "ImportQueue",
        "s3:ObjectCreated:*",
        "incoming/",
    )
    assert app.layers == (ROOT / "layers" / "onair",)


def test_local_run_cap_follows_the_template(tmp_path):
    # Given a copy of template.yaml whose RunFunction event caps concurrency at 2 (and nothing else changed)
    text = (ROOT / "template.yaml").read_text()
    jobs = text.index("BatchSize: 1")  # RunFunction's Jobs event
    changed = text[:jobs] + re.sub(
        r"MaximumConcurrency: !Ref RunConcurrency", "MaximumConcurrency: 2", text[jobs:], count=1
    )
    assert changed != text
    copy = tmp_path / "template.yaml"
    copy.write_text(changed)
    # When the local stack reads it
    app = load_template(copy)
    # Then RunFunction gets two pollers, while the real template's cap is untouched
    (run,) = app.sources_for("RunFunction")
    assert (run.maximum_concurrency, app.pollers(run)) == (2, 2)
    assert app.functions["RunFunction"].code_uri == ROOT / "functions" / "run"  # paths stay the repo's


def test_api_gateway_v2_routes_are_read_and_their_auth_ignored(tmp_path):
    # Given a template whose HTTP API is written as AWS::ApiGatewayV2 resources, one route behind a condition
    text = """
Conditions:
  UseIam: !Equals [!Ref AuthMode, iam]
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/import/, Handler: app.lambda_handler}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Api, IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Fn.Arn}
  Open:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: GET /health, Target: !Sub "integrations/${Integration}"}
  Signed:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: POST /things/{id}
      Target: !Sub "integrations/${Integration}"
      AuthorizationType: !If [UseIam, AWS_IAM, NONE]
"""
    path = tmp_path / "template.yaml"
    path.write_text(text)
    # When the local stack reads it
    app = load_template(path)
    # Then both routes reach the function behind the integration, authorization aside
    assert {(r.route_key, r.function) for r in app.routes} == {
        ("GET /health", "Fn"),
        ("POST /things/{id}", "Fn"),
    }


def test_a_route_without_a_lambda_integration_is_refused(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Bucket: {Type: AWS::S3::Bucket}\n"
        "  R: {Type: AWS::ApiGatewayV2::Route, Properties: {RouteKey: GET /x, Target: integrations/abc}}\n"
    )
    with pytest.raises(ValueError, match="not a Lambda integration"):
        load_template(path)


def test_conditions_and_list_functions_resolve_for_the_parameters_defaults(app):
    # AuthMode defaults to iam: UseIam holds, UseJwt does not; CorsAllowedOrigins is empty: no HasCors
    assert (app.condition("UseIam"), app.condition("UseJwt"), app.condition("HasCors")) == (
        True,
        False,
        False,
    )
    assert app.resolve({"Fn::If": ["UseIam", "a", "b"]}) == "a"
    assert app.resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}) == "y"
    assert app.resolve({"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}]]}) == "a-us-east-1"
    # An !If branch of AWS::NoValue drops the key, as CloudFormation does
    assert app.resolve({"k": {"Fn::If": ["UseJwt", "x", {"Ref": "AWS::NoValue"}]}, "j": 1}) == {"j": 1}
    env = app.resolve(dict(app.functions["ApiFunction"].environment))
    assert (env["AUTH_MODE"], env["OIDC_CLIENT_ID"]) == (app.parameters["AuthMode"], "")


def test_bucket_cors_is_the_templates_with_the_local_api_for_the_apis_own_origin(app):
    from local.provision import bucket_cors

    (rule,) = app.bucket_cors
    assert rule.origins == app.api_origins  # the template names the API's own origin (and no other here)
    (local,) = bucket_cors(app, "http://127.0.0.1:3000")
    assert local["AllowedOrigins"] == ["http://127.0.0.1:3000", "http://localhost:3000"]
    assert (local["AllowedMethods"], local["AllowedHeaders"]) == (list(rule.methods), list(rule.headers))
    assert local["MaxAgeSeconds"] == rule.max_age
    # Without a local API (in-process tests) the rules are the template's as resolved
    assert bucket_cors(app)[0]["AllowedOrigins"] == list(rule.origins)
