// What berthd tells clients about itself. API_VERSION is the highest Engine API whose
// behaviour berthd honours; docker CLI 29 refuses daemons below 1.44, and 1.24 keeps
// docker-compose 1.29 and docker-py working.
export const ENGINE_VERSION = '0.1.0';
export const API_VERSION = '1.44';
export const MIN_API_VERSION = '1.24';
export const GIT_COMMIT = 'berth';
