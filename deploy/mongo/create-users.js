// One MongoDB user per Opsdesk service, with readWrite on that service's own database and nothing else.
//
// Run by mongo:7's entrypoint on the first start of an empty data directory (mounted into
// /docker-entrypoint-initdb.d/), as the root user, or by hand: `mongosh -u root -p ... /path/create-users.js`.
// Each password comes from the environment: <SERVICE>_MONGODB_PASSWORD (INTAKE_, DISPATCH_, SLA_MONITOR_, ASSETS_,
// REPORTING_, KNOWLEDGE_), made by scripts/make-secrets.py. A missing password is an error, never a default.
// Users live in `admin` (connect with ?authSource=admin); a user that exists gets its current password and role.
const services = {
  intake: "opsdesk_intake",
  dispatch: "opsdesk_dispatch",
  "sla-monitor": "opsdesk_sla_monitor",
  assets: "opsdesk_assets",
  reporting: "opsdesk_reporting",
  knowledge: "opsdesk_knowledge",
};

const admin = db.getSiblingDB("admin");
for (const [user, database] of Object.entries(services)) {
  const variable = user.toUpperCase().replace(/-/g, "_") + "_MONGODB_PASSWORD";
  const pwd = process.env[variable];
  if (!pwd || pwd.length < 24) {
    throw new Error(`${variable} is missing or shorter than 24 characters`);
  }
  const roles = [{ role: "readWrite", db: database }];
  if (admin.getUser(user) === null) {
    admin.createUser({ user, pwd, roles, mechanisms: ["SCRAM-SHA-256"] });
    print(`created ${user} (readWrite on ${database})`);
  } else {
    admin.updateUser(user, { pwd, roles, mechanisms: ["SCRAM-SHA-256"] });
    print(`updated ${user} (readWrite on ${database})`);
  }
}
