// The gallery's storage: finished images (PNG blobs) and the parameters that made them,
// in IndexedDB, so they outlive a reload. Everything stays in this browser.

const DB_NAME = 'sd-worker';
const DB_VERSION = 1;
const STORE = 'images';

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error || new Error('transaction aborted'));
  });
}

export class GalleryStore {
  constructor() {
    this.db = null;
  }

  async open() {
    if (this.db) return this.db;
    if (!('indexedDB' in globalThis)) throw new Error('IndexedDB is not available');
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(STORE)) {
        const store = db.createObjectStore(STORE, { keyPath: 'id', autoIncrement: true });
        store.createIndex('created', 'created');
      }
    };
    this.db = await promisify(request);
    return this.db;
  }

  // record: {blob, params, seed, width, height, job_id, created}; resolves with its id.
  async add(record) {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    const id = await promisify(tx.objectStore(STORE).add(record));
    await done(tx);
    return id;
  }

  // Every record, newest first.
  async list() {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readonly');
    const records = await promisify(tx.objectStore(STORE).getAll());
    records.sort((a, b) => (b.created - a.created) || (b.id - a.id));
    return records;
  }

  async remove(id) {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).delete(id);
    await done(tx);
  }

  async clear() {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).clear();
    await done(tx);
  }
}
