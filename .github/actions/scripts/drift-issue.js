// The drift issue of the action (action.yml, command: drift): while the plan
// shows changes, one open issue (found by its label) holds the current plan,
// updated in place; when the plan is clean again, the issue gets a comment
// and is closed. Run by actions/github-script:
//   await require(`${ACTION_PATH}/.github/actions/scripts/drift-issue.js`)({ github, context, core })
// Environment: RESULT (drift or no-changes), PLAN_MD, PLAN_JSON,
// DRIFT_LABEL, ROSTER_CONFIG.
const fs = require('fs');

module.exports = async ({ github, context, core }) => {
  const { owner, repo } = context.repo;
  const label = process.env.DRIFT_LABEL;
  const run = `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
  const open = (await github.paginate(github.rest.issues.listForRepo, {
    owner, repo, labels: label, state: 'open', sort: 'created', direction: 'asc', per_page: 100,
  })).filter((i) => !i.pull_request);
  const issue = open[0];

  if (process.env.RESULT === 'no-changes') {
    if (!issue) {
      core.info('No drift, no drift issue open.');
      return;
    }
    await github.rest.issues.createComment({
      owner, repo, issue_number: issue.number,
      body: `✅ The drift is gone: \`roster plan\` shows no changes ([run](${run})). Closing.`,
    });
    await github.rest.issues.update({
      owner, repo, issue_number: issue.number, state: 'closed', state_reason: 'completed',
    });
    core.info(`Closed ${issue.html_url}`);
    return;
  }

  let plan = fs.readFileSync(process.env.PLAN_MD, 'utf8');
  if (plan.length > 64000) {
    // roster keeps the plan under 60,000 characters; this last
    // resort keeps the issue under GitHub's 65,536 and closes the
    // code block and sections that the cut left open.
    plan = plan.slice(0, 63500);
    const count = (re) => (plan.match(re) ?? []).length;
    if (count(/```/g) % 2 === 1) plan += '\n```';
    plan += '\n</details>'.repeat(Math.max(0, count(/<details>/g) - count(/<\/details>/g)));
    plan += '\n\n> ⚠️ Cut to fit the issue limit: the full plan is in the JSON artifact of the run.\n';
  }
  const tenant = JSON.parse(fs.readFileSync(process.env.PLAN_JSON, 'utf8')).tenant.name;
  const body = [
    '<!-- roster-drift -->',
    `The live tenant \`${tenant}\` differs from the manifests in \`${process.env.ROSTER_CONFIG}\` on the default branch.`,
    'To converge, run the **roster apply** workflow; if the tenant is right instead, change the manifests in a pull request.',
    `This issue is updated when the drift changes and closed once it is gone. Plan of [this run](${run}), ${new Date().toISOString()}:`,
    '',
    plan,
  ].join('\n');

  if (issue) {
    if ((issue.body ?? '').includes(plan)) {
      core.info(`Drift unchanged: ${issue.html_url}`);
      return;
    }
    await github.rest.issues.update({ owner, repo, issue_number: issue.number, body });
    core.info(`Updated ${issue.html_url}`);
    return;
  }

  try {
    await github.rest.issues.getLabel({ owner, repo, name: label });
  } catch (e) {
    if (e.status !== 404) throw e;
    await github.rest.issues.createLabel({
      owner, repo, name: label, color: 'd93f0b',
      description: 'roster: the live tenant differs from the manifests',
    });
  }
  const { data } = await github.rest.issues.create({
    owner, repo, labels: [label],
    title: `Tenant drift: ${tenant} differs from the manifests`,
    body,
  });
  core.info(`Opened ${data.html_url}`);
};
