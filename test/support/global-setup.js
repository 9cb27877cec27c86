// Replaced by the database template setup (see scripts in test/support).
module.exports = async () => {};
