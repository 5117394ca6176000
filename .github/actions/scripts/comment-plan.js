// The sticky plan comment of the action (action.yml, command: plan): one
// comment per pull request, found by roster's marker and edited in place on
// every push. Run by actions/github-script:
//   await require(`${ACTION_PATH}/.github/actions/scripts/comment-plan.js`)({ github, context, core })
// Environment: PLAN_MD (the Markdown plan), ARTIFACT_URL (the JSON plan's
// artifact, may be empty).
const fs = require('fs');

module.exports = async ({ github, context, core }) => {
  // The Markdown plan starts with this marker; it finds the
  // comment to update, so there is one comment per pull request.
  const marker = '<!-- roster-plan -->';
  const limit = 65536; // GitHub's cap on a comment's length
  let body = fs.readFileSync(process.env.PLAN_MD, 'utf8');
  if (!body.startsWith(marker)) {
    body = `${marker}\n${body}`;
  }
  const { owner, repo } = context.repo;
  const pr = context.payload.pull_request;
  const run = `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
  const links = [`[workflow run](${run})`];
  if (process.env.ARTIFACT_URL) {
    links.push(`[full plan (JSON)](${process.env.ARTIFACT_URL})`);
  }
  const footer = `\n---\n<sub>Planned for ${pr.head.sha.slice(0, 7)} · ${links.join(' · ')} · updated on every push</sub>\n`;
  if (body.length + footer.length > limit) {
    // roster keeps the plan under 60,000 characters; this last
    // resort keeps the API call from failing, and closes the code
    // block and sections that the cut left open.
    body = body.slice(0, limit - footer.length - 300);
    const count = (re) => (body.match(re) ?? []).length;
    if (count(/```/g) % 2 === 1) body += '\n```';
    body += '\n</details>'.repeat(Math.max(0, count(/<details>/g) - count(/<\/details>/g)));
    body += '\n\n> ⚠️ Cut to fit the comment limit: the full plan is in the JSON artifact.\n';
  }
  body += footer;
  const comments = await github.paginate(github.rest.issues.listComments, {
    owner, repo, issue_number: pr.number, per_page: 100,
  });
  const previous = comments.find(
    (c) => c.user?.type === 'Bot' && (c.body ?? '').startsWith(marker),
  );
  if (previous) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: previous.id, body });
    core.info(`Updated ${previous.html_url}`);
  } else {
    const { data } = await github.rest.issues.createComment({
      owner, repo, issue_number: pr.number, body,
    });
    core.info(`Created ${data.html_url}`);
  }
};
