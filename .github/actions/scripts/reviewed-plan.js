// Apply what was reviewed (action.yml, command: apply, reviewed: pull-request):
// find the pull request merged in this commit, the newest successful run of
// the plan workflow on its head commit, and that run's `roster-plan`
// artifact (the plan the pull-request comment showed), and unpack its
// plan.json to REVIEWED_PLAN for `roster apply --reviewed`. Run by
// actions/github-script:
//   await require(`${ACTION_PATH}/.github/actions/scripts/reviewed-plan.js`)({ github, context, core })
// Environment: REVIEWED_PLAN (where to write the plan), PLAN_WORKFLOW (the
// plan workflow's file name, e.g. roster-plan.yml).
// Outputs: found (true or false), pull-request (its number).
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

module.exports = async ({ github, context, core }) => {
  const { owner, repo } = context.repo;
  const pulls = (await github.rest.repos.listPullRequestsAssociatedWithCommit({
    owner, repo, commit_sha: context.sha,
  })).data.filter((p) => p.merged_at);
  core.setOutput('found', 'false');
  if (pulls.length === 0) {
    core.warning(`no merged pull request contains ${context.sha}: there is no reviewed plan to compare with`);
    return;
  }
  const pr = pulls[0];
  core.setOutput('pull-request', String(pr.number));
  const runs = (await github.rest.actions.listWorkflowRuns({
    owner, repo, workflow_id: process.env.PLAN_WORKFLOW, head_sha: pr.head.sha, status: 'success', per_page: 20,
  })).data.workflow_runs;
  for (const run of runs) {
    const artifacts = (await github.rest.actions.listWorkflowRunArtifacts({
      owner, repo, run_id: run.id, name: 'roster-plan',
    })).data.artifacts.filter((a) => !a.expired);
    if (artifacts.length === 0) continue;
    const zip = await github.rest.actions.downloadArtifact({
      owner, repo, artifact_id: artifacts[0].id, archive_format: 'zip',
    });
    const target = process.env.REVIEWED_PLAN;
    const dir = path.dirname(target);
    fs.mkdirSync(dir, { recursive: true });
    const archive = path.join(dir, 'reviewed.zip');
    fs.writeFileSync(archive, Buffer.from(zip.data));
    execFileSync('unzip', ['-o', '-q', archive, 'plan.json', '-d', path.join(dir, 'reviewed')]);
    fs.renameSync(path.join(dir, 'reviewed', 'plan.json'), target);
    core.info(`the reviewed plan: pull request #${pr.number}, run ${run.html_url}`);
    core.setOutput('found', 'true');
    return;
  }
  core.warning(`pull request #${pr.number} has no plan artifact from a successful ${process.env.PLAN_WORKFLOW} run on ${pr.head.sha}`);
};
